"""The protocols the configs carry over, against the sources their comments
name: mmdet's SSDLite-MobileNetV2 and Swin-T configs and mmseg's DeepLabv3
and data set configs as installed; the EdgeFormer authors' (and the
MobileViT) yaml files as their own option parser reads them
(tests/fixtures/edgeformer_reference/options.json, made by
make_cvnets_options.py; their anchors: detection.pt); the EdgeNeXt
authors' ImageNet recipe (tests/fixtures/edgenext_official/recipe.json,
made by make_edgenext_recipe.py). The numbers these tests hold train and
evaluate without error when wrong; only accuracy on real data would show
them."""
import copy
import functools
import glob
import inspect
import json
import math
import os

import mmdet
import mmseg
import pytest
import torch
from helpers import ROOT, cfg_path, edgeformer_reference
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmedgenext.apis import load_config


@pytest.fixture(scope='module', autouse=True)
def metafiles_read_once():
    """mmengine reads every metafile of mmdet or mmseg to resolve each
    ``mmdet::``/``mmseg::`` base of a config (about 0.3 s a time, most of
    reading a config); here each file is read once."""
    from mmengine.config import utils
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(utils, 'load', functools.lru_cache(maxsize=None)(
            utils.load))
        yield


@functools.lru_cache(maxsize=None)
def _loaded(name):
    return load_config(cfg_path(name))


def config(name):
    """``configs/<name>`` as tools load it (a copy: reading a config
    takes longer than most of these tests)."""
    cfg = copy.deepcopy(_loaded(name))
    init_default_scope(cfg.default_scope)
    return cfg


def stock_config(package, name):
    """A config the installed ``package`` ships (its ``.mim/configs``)."""
    return Config.fromfile(os.path.join(
        os.path.dirname(package.__file__), '.mim', 'configs', name))


def build(registry, cfg):
    with torch.no_grad():
        return registry.build(cfg).eval()


with open(os.path.join(ROOT, 'tests', 'fixtures', 'edgeformer_reference',
                       'options.json')) as f:
    CVNETS = json.load(f)
# EdgeFormer-S's yaml files, and the MobileViT-S ones the EdgeNeXt paper's
# SSDLite and DeepLabv3 recipes come from.
DET, SEG, CLS, DET_MOBILEVIT, SEG_MOBILEVIT = (
    CVNETS['options'][t] for t in ('detection', 'segmentation',
                                   'classification', 'detection_mobilevit',
                                   'segmentation_mobilevit'))


def configs(pattern, exclude=()):
    return sorted(os.path.basename(p) for p in glob.glob(
        os.path.join(ROOT, 'configs', pattern))
        if not p.endswith(tuple(exclude)))


# ------------------------------------------- SSDLite, mmdet's head and anchors
MMDET_SSDLITE = 'ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py'
# The paper configs (the synthetic one sets its own levels and anchors for
# 16-160 px shapes; the ml-cvnets ones are below).
SSDLITE = configs('ssdlite_edgenext_*.py',
                  exclude=('_synthetic.py', '_cvnets.py'))
# mmdet's SSDLite levels at 320x320: strides 16 and 32 of the backbone,
# then four stride-2 levels.
SSDLITE_MAPS_320 = [(20, 20), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]


@pytest.fixture(scope='module')
def mmdet_ssdlite():
    init_default_scope('mmdet')
    return stock_config(mmdet, MMDET_SSDLITE)


def without(cfg, *keys):
    return {k: v for k, v in cfg.items() if k not in keys}


@pytest.mark.parametrize('name', SSDLITE)
def test_ssdlite_anchors_and_box_coding_are_mmdets(name, mmdet_ssdlite):
    """The prior generator and box coder as built, against those of mmdet's
    SSDLite-MobileNetV2: every prior of the 320x320 levels in the same
    order (sizes, ratios, centres), the means, stds and clipping."""
    from mmdet.registry import TASK_UTILS
    ours = config(name).model.bbox_head
    stock = mmdet_ssdlite.model.bbox_head
    ours_gen, stock_gen = (TASK_UTILS.build(h.anchor_generator)
                           for h in (ours, stock))
    assert ours_gen.strides == stock_gen.strides
    assert ours_gen.num_base_priors == stock_gen.num_base_priors
    for a, b in zip(ours_gen.grid_priors(SSDLITE_MAPS_320, device='cpu'),
                    stock_gen.grid_priors(SSDLITE_MAPS_320, device='cpu')):
        assert torch.equal(a, b)
    ours_coder, stock_coder = (TASK_UTILS.build(h.bbox_coder)
                               for h in (ours, stock))
    assert type(ours_coder) is type(stock_coder)
    assert vars(ours_coder) == vars(stock_coder)


@pytest.mark.parametrize('name', SSDLITE)
def test_ssdlite_neck_head_and_training_are_mmdets(name, mmdet_ssdlite):
    """The rest of mmdet's SSDLite, but the backbone widths and the NMS IoU,
    which is ml-cvnets' (the EdgeNeXt paper's detector, MobileViT's yaml)."""
    ours, stock = config(name).model, mmdet_ssdlite.model
    assert ours.data_preprocessor == stock.data_preprocessor
    channels = ('in_channels', 'out_channels')
    assert without(ours.neck, *channels) == without(stock.neck, *channels)
    assert ours.neck.out_channels[2:] == stock.neck.out_channels[2:]
    head = ('type', 'in_channels', 'num_classes')
    assert without(ours.bbox_head, *head) == without(stock.bbox_head, *head)
    assert ours.bbox_head.in_channels == ours.neck.out_channels
    assert ours.train_cfg == stock.train_cfg
    assert without(ours.test_cfg, 'nms') == without(stock.test_cfg, 'nms')
    assert ours.test_cfg.nms == dict(stock.test_cfg.nms,
                                     iou_threshold=DET_MOBILEVIT[
                                         'model.detection.ssd.'
                                         'nms_iou_threshold'])


@pytest.mark.parametrize('name', ['ssdlite_edgenext_xx_small_coco.py',
                                  'ssdlite_edgenext_xx_small_voc.py'])
def test_ssdlite_pipelines_are_mmdets(name, mmdet_ssdlite):
    cfg = config(name)
    dataset = cfg.train_dataloader.dataset
    for train in dataset.get('datasets', [dataset]):
        assert train.pipeline == mmdet_ssdlite.train_pipeline
    assert cfg.test_dataloader.dataset.pipeline == \
        mmdet_ssdlite.test_pipeline


def test_ssdlite_levels_lie_where_the_anchors_are():
    """The config's backbone and neck give the 320x320 maps mmdet's SSDLite
    priors are laid on."""
    from mmdet.registry import MODELS
    cfg = config('ssdlite_edgenext_xx_small_coco.py')
    cfg.model.backbone.init_cfg = None
    backbone, neck = (build(MODELS, cfg.model[k])
                      for k in ('backbone', 'neck'))
    with torch.no_grad():
        maps = neck(backbone(torch.zeros(1, 3, 320, 320)))
    assert [tuple(m.shape[2:]) for m in maps] == SSDLITE_MAPS_320


# --------------------------------------------- DeepLabv3, mmseg's ASPPHead
# Configs with mmseg's ASPPHead (the ml-cvnets head ones are below).
MMSEG_DEEPLAB = configs('deeplabv3_edgenext_*.py', exclude=('_cvnets.py', ))


@pytest.fixture(scope='module')
def mmseg_aspp_rates():
    """``{output stride: ASPPHead dilations}`` of mmseg's stock DeepLabv3
    configs: the d8 ones (ResNet at strides 1, 2, 1, 1 after its stride-4
    stem) and the d16 one."""
    rates = {}
    for name in ('deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py',
                 'deeplabv3/deeplabv3_r101-d16-mg124_4xb2-40k_'
                 'cityscapes-512x1024.py'):
        model = stock_config(mmseg, name).model
        output_stride = 4 * math.prod(model.backbone.strides)
        rates[output_stride] = tuple(model.decode_head.dilations)
    assert rates == {8: (1, 12, 24, 36), 16: (1, 6, 12, 18)}
    return rates


def output_stride(backbone, in_index, size=64):
    """The stride of the backbone's map ``in_index``, as it runs."""
    with torch.no_grad():
        maps = backbone(torch.zeros(1, 3, size, size))
    return size // maps[in_index].shape[-1]


@pytest.mark.parametrize('name', MMSEG_DEEPLAB)
def test_aspp_rates_follow_the_output_stride(name, mmseg_aspp_rates):
    """DeepLab's protocol as mmseg's own configs hold it: rates 6/12/18 at
    output stride 16, doubled at 8; read from the model the config builds
    (the backbone's map as it runs, the ASPP convs' dilations)."""
    from mmseg.registry import MODELS
    cfg = config(name)
    cfg.model.backbone.init_cfg = None
    backbone, head = (build(MODELS, cfg.model[k])
                      for k in ('backbone', 'decode_head'))
    stride = output_stride(backbone, head.in_index)
    assert stride == cfg.model.backbone.output_stride == 16
    assert tuple(m.conv.dilation[0]
                 for m in head.aspp_modules) == mmseg_aspp_rates[stride]


def test_aspp_rates_double_at_output_stride_8(mmseg_aspp_rates):
    """A config at output stride 8 sets the doubled rates, as mmseg's
    d8 configs do; the model it builds runs at stride 8."""
    from mmseg.registry import MODELS
    cfg = config('deeplabv3_edgenext_xx_small_voc12aug.py')
    cfg.model.backbone.update(init_cfg=None, output_stride=8)
    cfg.model.decode_head.dilations = mmseg_aspp_rates[8]
    backbone = build(MODELS, cfg.model.backbone)
    assert output_stride(backbone, cfg.model.decode_head.in_index) == 8


@pytest.mark.parametrize('name', [
    'deeplabv3_edgenext_small_voc12aug.py',
    'deeplabv3_edgenext_small_coco-stuff164k.py'])
def test_mmseg_deeplab_follows_the_mobilevit_recipe(name):
    """The head settings and optimizer of ml-cvnets' MobileViT-S DeepLabv3
    yaml, the EdgeNeXt paper's recipe: output stride 16, rates 6/12/18, 256
    ASPP channels, classifier dropout, no auxiliary head; AdamW at its rate
    and decay, the head at its multiplier, cosine to its floor."""
    cfg = config(name)
    head, seg = cfg.model.decode_head, 'model.segmentation.'
    assert cfg.model.backbone.output_stride == SEG_MOBILEVIT[
        seg + 'output_stride']
    assert head.dilations[1:] == tuple(SEG_MOBILEVIT[
        seg + 'deeplabv3.aspp_rates'])
    assert head.channels == SEG_MOBILEVIT[seg +
                                          'deeplabv3.aspp_out_channels']
    assert head.dropout_ratio == SEG_MOBILEVIT[seg + 'classifier_dropout']
    assert 'auxiliary_head' not in cfg.model
    assert not SEG_MOBILEVIT[seg + 'use_aux_head']
    assert cfg.crop_size == (SEG_MOBILEVIT['sampler.bs.crop_size_height'],
                             SEG_MOBILEVIT['sampler.bs.crop_size_width'])
    check_optimizer(cfg, SEG_MOBILEVIT)
    # A departure its comment names: no decay on norms and biases.
    assert decays_norms_and_biases(cfg) == (False, False)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.decode_head == dict(
        lr_mult=SEG_MOBILEVIT[seg + 'lr_multiplier'])
    assert cfg.param_scheduler[-1].eta_min == SEG_MOBILEVIT[
        'scheduler.cosine.min_lr']


def test_ssdlite_schedule_is_the_mobilevit_recipe():
    """ml-cvnets' MobileViT-S SSDLite yaml, the EdgeNeXt paper's recipe:
    AdamW, cosine, epochs, EMA, batch per device; with the departures the
    schedule's comment names (warm-up from lr / 1000, no decay on norms
    and biases)."""
    cfg = config('ssdlite_edgenext_small_coco.py')
    check_optimizer(cfg, DET_MOBILEVIT)
    assert decays_norms_and_biases(cfg) == (False, False)
    check_schedule(cfg, DET_MOBILEVIT, start_factor=1e-3)
    assert cfg.train_dataloader.batch_size == DET_MOBILEVIT[
        'dataset.train_batch_size0']


def test_auxiliary_head_is_mmsegs():
    """The _auxhead config's FCN head is mmseg's stock DeepLabv3 one, on
    the stride-16 map."""
    ours = config(
        'deeplabv3_edgenext_small_voc12aug_auxhead.py').model
    stock = stock_config(
        mmseg, 'deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py')
    keys = ('in_channels', 'in_index')
    assert without(ours.auxiliary_head, *keys) == without(
        stock.model.auxiliary_head, *keys)
    assert ours.backbone.out_indices[ours.auxiliary_head.in_index] == 2


@pytest.mark.parametrize('name,stock', [
    ('deeplabv3_edgenext_small_voc12aug.py', 'pascal_voc12_aug.py'),
    ('deeplabv3_edgenext_small_coco-stuff164k.py', 'coco-stuff164k.py'),
])
def test_segmentation_pipelines_are_mmsegs(name, stock):
    """mmseg's data set pipelines, with a check of each label map's size
    added; the crops padded to 512x512 by the data preprocessor (``size``),
    as mmseg's VOC pipeline also does with a ``Pad`` step."""
    ours = config(name)
    theirs = stock_config(mmseg, f'_base_/datasets/{stock}')
    assert [t for t in theirs.train_pipeline if t['type'] == 'Pad'] in (
        [], [dict(type='Pad', size=ours.crop_size)])
    assert ours.model.data_preprocessor.size == ours.crop_size
    assert (ours.model.data_preprocessor.pad_val,
            ours.model.data_preprocessor.seg_pad_val) == (0, 255)
    dataset = ours.train_dataloader.dataset
    for train in dataset.get('datasets', [dataset]):
        assert [t for t in train.pipeline
                if t['type'] != 'mmedgenext.CheckSegMapSize'] == [
                    t for t in theirs.train_pipeline if t['type'] != 'Pad']
    assert ours.test_dataloader.dataset.pipeline == theirs.test_pipeline


# ------------------------------------------- ml-cvnets' SSDLite and DeepLabv3
CVNETS_SSD = ['ssdlite_edgeformer_s_coco.py', 'ssdlite_edgeformer_s_voc.py',
              'ssdlite_edgenext_small_coco_cvnets.py']
CVNETS_DEEPLAB = ['deeplabv3_edgeformer_s_voc12aug.py',
                  'deeplabv3_edgenext_small_voc12aug_cvnets.py']


def check_optimizer(cfg, options):
    """AdamW with the yaml's rate, weight decay and betas."""
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type.lower() == options['optim.name'] == 'adamw'
    assert optimizer.lr == options['scheduler.cosine.max_lr']
    assert optimizer.weight_decay == options['optim.weight_decay']
    betas = optimizer.get('betas', inspect.signature(
        torch.optim.AdamW).parameters['betas'].default)
    assert tuple(betas) == (options['optim.adamw.beta1'],
                            options['optim.adamw.beta2'])


def decays_norms_and_biases(cfg):
    """Whether the weight decay reaches norms and biases (ml-cvnets:
    unless ``optim.no_decay_bn_filter_bias``)."""
    paramwise = cfg.optim_wrapper.get('paramwise_cfg') or {}
    return (paramwise.get('norm_decay_mult', 1.) != 0,
            paramwise.get('bias_decay_mult', 1.) != 0)


def check_schedule(cfg, options, start_factor=None):
    """The yaml's warm-up (iterations, from its initial rate unless
    ``start_factor`` says otherwise), cosine floor and epochs (when
    epoch-based), and EMA momentum."""
    assert options['scheduler.name'] == 'cosine'
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.by_epoch, warmup.begin) == (
        'LinearLR', False, 0)
    assert warmup.end == options['scheduler.warmup_iterations']
    assert warmup.start_factor == pytest.approx(
        start_factor or options['scheduler.warmup_init_lr'] /
        options['scheduler.cosine.max_lr'], rel=1e-12)
    assert cosine.type == 'CosineAnnealingLR'
    assert cosine.eta_min == options['scheduler.cosine.min_lr']
    if cfg.train_cfg.get('by_epoch', 'max_epochs' in cfg.train_cfg):
        assert not options['scheduler.is_iteration_based']
        assert cfg.train_cfg.max_epochs == cosine.end == options[
            'scheduler.max_epochs']
    assert options['ema.enable']
    (ema, ) = [h for h in cfg.custom_hooks if h['type'] == 'EMAHook']
    assert ema.momentum == options['ema.momentum']


def check_training(cfg, options):
    """The yaml's optimizer (weight decay on norms and biases unless its
    ``no_decay_bn_filter_bias``), schedule and batch per device."""
    check_optimizer(cfg, options)
    assert decays_norms_and_biases(cfg) == (
        not options['optim.no_decay_bn_filter_bias'], ) * 2
    check_schedule(cfg, options)
    assert cfg.train_dataloader.batch_size == options[
        'dataset.train_batch_size0']


@pytest.fixture(scope='module')
def authors_anchors():
    return edgeformer_reference('detection')['anchors']


@pytest.mark.parametrize('name', CVNETS_SSD)
def test_cvnets_ssd_is_the_authors_yaml(name, authors_anchors):
    """The head as built: the authors' 320x320 anchors (their generator
    with the yaml's ratios and box sizes), projections, variances,
    matching and post-processing thresholds; the yaml's 320x320 input."""
    from mmdet.registry import MODELS
    cfg = config(name)
    head = build(MODELS, dict(cfg.model.bbox_head, train_cfg=cfg.model.
                              train_cfg, test_cfg=cfg.model.test_cfg))
    ssd = 'model.detection.ssd.'
    maps = [(math.ceil(DET['sampler.bs.crop_size_width'] / s), ) * 2
            if s > 0 else (1, 1) for s in DET[ssd + 'output_strides']]
    assert torch.equal(head.priors(maps), authors_anchors)
    assert head.aspect_ratios == DET[ssd + 'anchors_aspect_ratio']
    assert list(cfg.model.bbox_head.proj_channels) == DET[
        ssd + 'proj_channels']
    assert (head.center_variance, head.size_variance) == (
        DET[ssd + 'center_variance'], DET[ssd + 'size_variance'])
    assert head.train_cfg == dict(
        iou_threshold=DET[ssd + 'iou_threshold'],
        neg_pos_ratio=DET['loss.detection.ssd_multibox_loss.neg_pos_ratio'])
    assert head.test_cfg == dict(
        score_thr=DET[ssd + 'conf_threshold'],
        iou_threshold=DET[ssd + 'nms_iou_threshold'],
        max_per_class=DET[ssd + 'num_objects_per_class'], max_per_img=None)
    crop = (DET['sampler.bs.crop_size_height'],
            DET['sampler.bs.crop_size_width'])
    (resize, ) = [t for t in cfg.test_dataloader.dataset.pipeline
                  if t['type'] == 'Resize']
    assert resize == dict(type='Resize', scale=crop, keep_ratio=False)


def test_cvnets_ssd_levels_are_at_the_yaml_strides():
    """EdgeNeXt-S's detector's level maps at the yaml's 320x320 input:
    strides 16, 32, 64, 128, 256 (ceil, as their dataset sizes them) and a
    global level. (EdgeFormer-S's: its outputs against the authors',
    test_edgeformer_heads.py.)"""
    from mmdet.registry import MODELS
    cfg = config('ssdlite_edgenext_small_coco_cvnets.py')
    cfg.model.backbone.init_cfg = None
    model = build(MODELS, cfg.model)
    size = DET['sampler.bs.crop_size_width']
    with torch.no_grad():
        maps = model.extract_feat(torch.zeros(1, 3, size, size))
    assert [m.shape[-1] for m in maps] == [
        math.ceil(size / s) if s > 0 else 1
        for s in DET['model.detection.ssd.output_strides']]


def test_cvnets_ssd_schedule_is_the_authors_yaml():
    check_training(config(CVNETS_SSD[0]), DET)


@pytest.mark.parametrize('name', CVNETS_DEEPLAB)
def test_cvnets_deeplab_is_the_authors_yaml(name):
    """Output stride (the backbone as it runs), ASPP rates, width and
    dropouts, no auxiliary head, the 512x512 crops and the random resize
    of the short side to 384-768 pixels."""
    from mmseg.registry import MODELS
    cfg = config(name)
    cfg.model.backbone.init_cfg = None
    seg = 'model.segmentation.'
    backbone, head = (build(MODELS, cfg.model[k])
                      for k in ('backbone', 'decode_head'))
    assert output_stride(backbone, head.in_index) == SEG[seg +
                                                         'output_stride']
    assert [m.block.conv.dilation[0] for m in head.aspp.convs[1:-1]] == SEG[
        seg + 'deeplabv3.aspp_rates']
    assert head.channels == SEG[seg + 'deeplabv3.aspp_out_channels']
    assert not SEG[seg + 'deeplabv3.aspp_sep_conv']
    assert head.aspp.dropout.p == SEG[seg + 'deeplabv3.aspp_dropout']
    assert head.dropout.p == SEG[seg + 'classifier_dropout']
    assert 'auxiliary_head' not in cfg.model
    assert not SEG[seg + 'use_aux_head']
    crop = (SEG['sampler.bs.crop_size_height'],
            SEG['sampler.bs.crop_size_width'])
    assert cfg.crop_size == crop
    (resize, ) = [t for t in cfg.train_pipeline if t['type'] ==
                  'RandomResize']
    short_side = [min(resize.scale) * r for r in resize.ratio_range]
    assert short_side == [SEG['image_augmentation.random_resize.min_size'],
                          SEG['image_augmentation.random_resize.max_size']]


def test_cvnets_deeplab_schedule_is_the_authors_yaml():
    cfg = config(CVNETS_DEEPLAB[0])
    check_training(cfg, SEG)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.decode_head == dict(
        lr_mult=SEG['model.segmentation.lr_multiplier'])


def test_edgeformer_classifier_is_the_authors_yaml():
    """Classifier dropout, label smoothing, AdamW schedule and EMA, batch,
    and the training sizes their variable-batch sampler draws from (its
    batch size varies with them; here it stays fixed)."""
    cfg = config('edgeformer_s_in1k.py')
    assert cfg.model.head.dropout == CLS[
        'model.classification.classifier_dropout']
    assert CLS['loss.classification.name'] == 'label_smoothing'
    assert cfg.model.head.loss.label_smooth_val == CLS[
        'loss.classification.label_smoothing_factor']
    check_training(cfg, CLS)
    sizes = [(h, w) for h, w, _ in CVNETS['classification_scales']]
    assert all(h == w for h, w in sizes)
    assert tuple(h for h, _ in sizes) == cfg.model.data_preprocessor.scales
    crop = [t for t in cfg.train_pipeline if t['type'] == 'RandomResizedCrop']
    assert crop[0].scale == max(h for h, _ in sizes)


# ------------------------------------ EdgeNeXt, the authors' ImageNet recipe
with open(os.path.join(ROOT, 'tests', 'fixtures', 'edgenext_official',
                       'recipe.json')) as f:
    RECIPE = json.load(f)


def test_edgenext_classifier_is_the_authors_recipe():
    """edgenext_small_in1k.py against their README's training command for
    EdgeNeXt-S as their main.py parses it: AdamW, rate for the whole batch
    (8 devices x 256 x 2 accumulated), warm-up, cosine floor, epochs, EMA,
    label smoothing, drop path; their training transform (bicubic random
    resized crops, flips, RandAugment m9 mstd0.5 with the increasing ops,
    no colour jitter beside it), their sampler's sizes, their evaluation
    resize and crop and normalisation."""
    from mmpretrain.datasets.transforms.auto_augment import RANDAUG_POLICIES
    from mmpretrain.registry import TRANSFORMS
    args, cfg = RECIPE['args'], config('edgenext_small_in1k.py')
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type.lower() == args['opt'] == 'adamw'
    assert (optimizer.lr, optimizer.weight_decay, optimizer.eps) == (
        args['lr'], args['weight_decay'], args['opt_eps'])
    assert args['opt_betas'] is None  # torch's AdamW default
    assert optimizer.betas == inspect.signature(
        torch.optim.AdamW).parameters['betas'].default
    assert cfg.auto_scale_lr.base_batch_size == (
        args['batch_size'] * args['update_freq'] * RECIPE['devices'])
    warmup, cosine = cfg.param_scheduler
    assert warmup.by_epoch and warmup.end == args['warmup_epochs']
    assert optimizer.lr * warmup.start_factor == pytest.approx(
        args['warmup_start_lr'], abs=1e-8)
    assert cosine.eta_min == args['min_lr']
    assert cosine.end == cfg.train_cfg.max_epochs == args['epochs']
    assert args['model_ema'] and args['model_ema_eval']
    (ema, ) = [h for h in cfg.custom_hooks if h['type'] == 'EMAHook']
    assert ema.momentum == pytest.approx(1 - args['model_ema_decay'])
    assert cfg.model.head.loss.label_smooth_val == args['smoothing']
    assert cfg.model.backbone.drop_path_rate == args['drop_path']

    sizes = [h for h, w, _ in RECIPE['sampler_scales']]
    assert cfg.model.data_preprocessor.scales == tuple(sizes)
    normalize = RECIPE['eval_transform'][-1]
    assert cfg.model.data_preprocessor.mean == pytest.approx(
        [255 * m for m in normalize['mean']])
    assert cfg.model.data_preprocessor.std == pytest.approx(
        [255 * s for s in normalize['std']])
    crop, flip, randaug = RECIPE['train_transform'][:3]
    ours = {t['type']: TRANSFORMS.build(t)
            for t in cfg.train_pipeline[1:-1]}
    assert ours['RandomResizedCrop'].scale == (max(sizes), ) * 2
    assert ours['RandomResizedCrop'].interpolation == crop['interpolation']
    assert ours['RandomResizedCrop'].crop_ratio_range == tuple(crop['scale'])
    assert ours['RandomResizedCrop'].aspect_ratio_range == pytest.approx(
        crop['ratio'])
    assert ours['RandomFlip'].prob == flip['p']
    (op_settings, ) = {(op['prob'], op['magnitude'], op['magnitude_std'])
                       for op in randaug['ops']}
    assert (ours['RandAugment'].num_policies, ours['RandAugment'].
            magnitude_level, ours['RandAugment'].magnitude_std) == (
                randaug['num_layers'], *op_settings[1:])
    assert len(RANDAUG_POLICIES['timm_increasing']) == len(randaug['ops'])
    assert ('ColorJitter' in ours) == any(
        t['type'] == 'ColorJitter' for t in RECIPE['train_transform'])
    resize, center = RECIPE['eval_transform'][:2]
    ours = {t['type']: t for t in cfg.test_pipeline[1:-1]}
    assert ours['ResizeEdge'] == dict(
        type='ResizeEdge', scale=resize['size'], edge='short',
        backend='pillow', interpolation=resize['interpolation'])
    assert [ours['CenterCrop']['crop_size']] * 2 == center['size']


# ------------------------------------------------ examples on stock configs
@pytest.mark.parametrize('name', [
    'examples/atss_edgenext_small_fpn_1x_coco.py',
    'examples/faster-rcnn_edgenext_small_fpn_1x_coco.py',
    'examples/mask-rcnn_edgenext_small_fpn_1x_coco.py',
    'examples/retinanet_edgenext_small_fpn_1x_coco.py',
])
def test_detection_examples_train_as_mmdets_swin(name):
    """The mmdet examples' optimizer is that of mmdet's Swin-T Mask R-CNN
    1x config (AdamW, rate, betas, weight decay), as the RetinaNet one's
    comment says."""
    stock = stock_config(
        mmdet, 'swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py').optim_wrapper
    ours = config(name).optim_wrapper
    assert without(ours.optimizer, 'betas') == without(stock.optimizer,
                                                       'betas', '_delete_')
    assert ours.optimizer.get('betas', inspect.signature(
        torch.optim.AdamW).parameters['betas'].default) == \
        stock.optimizer.betas


def test_coco_stuff_schedule_is_mmsegs():
    """80k iterations at 4 images per device as mmseg's COCO-Stuff 164k
    DeepLabv3 config (4 devices: batch 16)."""
    stock = stock_config(
        mmseg, 'deeplabv3/deeplabv3_r50-d8_4xb4-80k_coco-stuff164k-512x512.py')
    ours = config('deeplabv3_edgenext_small_coco-stuff164k.py')
    assert ours.train_cfg.max_iters == stock.train_cfg.max_iters
    assert ours.train_dataloader.batch_size == \
        stock.train_dataloader.batch_size
    assert ours.param_scheduler[-1].end == stock.train_cfg.max_iters


@pytest.mark.parametrize('variant', ['xx_small', 'x_small', 'small', 'base'])
def test_edgenext_variants_follow_the_authors_notes(variant):
    """Each variant's config against the training note above its builder
    in the authors' models/model.py: RandAugment or not (and then timm's
    colour jitter in its place), Mixup and CutMix or not, drop path, batch
    and rate, the multi-scale sampler."""
    note = [item.strip() for item in
            RECIPE['variant_notes'][variant].split(',')]
    cfg = config(f'edgenext_{variant}_in1k.py')
    steps = {t['type']: t for t in cfg.train_pipeline}
    randaugment = 'AA=True' in note
    assert randaugment != ('No AA' in note)
    assert ('RandAugment' in steps) == randaugment
    jitter = steps.get('ColorJitter')
    assert (jitter is None) == randaugment
    if jitter:
        assert jitter['brightness'] == jitter['contrast'] == jitter[
            'saturation'] == RECIPE['args']['color_jitter']
    mix = 'Mixup & Cutmix' in note
    assert mix != ('No Mixup & Cutmix' in note)
    augments = cfg.model.data_preprocessor.get('batch_augments') or {}
    assert sorted(a['type'] for a in augments.get('augments', [])) == (
        ['CutMix', 'Mixup'] if mix else [])
    (drop_path, ) = [float(i.split('=')[1]) for i in note
                     if i.startswith('DropPath=')]
    assert cfg.model.backbone.drop_path_rate == drop_path
    assert f'BS={cfg.auto_scale_lr.base_batch_size}' in note
    assert f'lr={cfg.optim_wrapper.optimizer.lr}' in note
    assert 'multi-scale-sampler' in note
    assert cfg.model.data_preprocessor.scales == tuple(
        h for h, _, _ in RECIPE['sampler_scales'])


@pytest.mark.parametrize('variant', ['xx_small', 'x_small', 'small'])
def test_edgenext_bn_hs_configs_are_their_layernorm_recipe(variant):
    """The BatchNorm/Hardswish configs train as their LayerNorm
    counterparts (the authors give them no recipe of their own)."""
    ln = config(f'edgenext_{variant}_in1k.py').to_dict()
    bn = config(f'edgenext_{variant}_bn_hs_in1k.py').to_dict()
    assert bn['model']['backbone'].pop('arch') == f'{variant}_bn_hs'
    assert ln['model']['backbone'].pop('arch') == variant
    assert bn == ln
