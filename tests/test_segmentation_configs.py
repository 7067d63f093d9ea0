"""Every DeepLabv3 config builds and runs loss and predict forwards, at
output strides 32, 16 and 8, with the backbone weights an ImageNet
checkpoint gives."""
import glob
import os

import pytest
import torch
from helpers import ROOT, save_official, seg_batch
from mmengine.config import Config
from mmengine.registry import init_default_scope

# mmseg-native DeepLabv3 configs (the ml-cvnets ones: test_edgeformer_heads.py)
CONFIGS = sorted(c for c in glob.glob(
    os.path.join(ROOT, 'configs', 'deeplabv3_edgenext_*.py'))
    if not c.endswith('_cvnets.py'))
PAPER_CONFIGS = [c for c in CONFIGS if 'synthetic' not in c]


def build_segmentor(path, **backbone):
    from mmseg.registry import MODELS
    cfg = Config.fromfile(path)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.model.backbone.update(init_cfg=None, **backbone)
    cfg.model.data_preprocessor.size = (64, 64)  # the test images
    return cfg, MODELS.build(cfg.model)


def test_all_paper_configs_exist():
    names = {os.path.basename(c) for c in PAPER_CONFIGS}
    for arch in ('xx_small', 'x_small', 'small', 'base'):
        for data in ('voc12aug', 'coco-stuff164k'):
            assert f'deeplabv3_edgenext_{arch}_{data}.py' in names


@pytest.mark.slow
def test_paper_configs_follow_the_protocol():
    """Output stride 16 and the data set's classes (building, sizes and a
    training step of every config: test_config_sizes.py)."""
    for path in PAPER_CONFIGS:
        cfg = Config.fromfile(path)
        assert cfg.model.backbone.output_stride == 16
        assert cfg.model.decode_head.num_classes == (
            171 if 'coco-stuff' in path else 21)


@pytest.mark.parametrize('output_stride', [32, 16, 8])
@pytest.mark.slow
def test_output_strides_train_and_predict(output_stride):
    path = os.path.join(ROOT, 'configs',
                        'deeplabv3_edgenext_xx_small_voc12aug.py')
    _, model = build_segmentor(path, output_stride=output_stride)
    feats = model.extract_feat(torch.randn(1, 3, 64, 64))
    assert feats[-1].shape[-1] == 64 // output_stride
    data = model.data_preprocessor(seg_batch(21), training=True)
    loss = model(**data, mode='loss')['decode.loss_ce']
    loss.backward()
    assert model.backbone.stages[3][0].dwconv.weight.grad is not None


@pytest.mark.slow
def test_paper_configs_start_from_the_official_checkpoint():
    for path in PAPER_CONFIGS:
        cfg = Config.fromfile(path)
        arch = cfg.model.backbone.arch
        assert cfg.model.backbone.init_cfg == dict(
            type='Pretrained', checkpoint=f'edgenext_{arch}')


def test_dilated_backbone_loads_imagenet_weights_without_missing_keys(
        tmp_path):
    from mmedgenext.checkpoint import load_pretrained
    from mmedgenext.models import EdgeNeXt
    _, path = save_official(tmp_path, 'xx_small')
    for output_stride in (16, 8):
        model = EdgeNeXt('xx_small', out_indices=(2, 3),
                         output_stride=output_stride)
        report = load_pretrained(model, path)
        assert [k for k in report['missing'] if not k.startswith('norm2')
                ] == []
        assert not report['unexpected']


def test_auxiliary_head_option():
    path = os.path.join(ROOT, 'configs',
                        'deeplabv3_edgenext_small_voc12aug_auxhead.py')
    _, model = build_segmentor(path)
    data = model.data_preprocessor(seg_batch(21), training=True)
    assert 'aux.loss_ce' in model(**data, mode='loss')


@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_whole_and_sliding_window_inference(mode):
    path = os.path.join(ROOT, 'configs',
                        'deeplabv3_edgenext_xx_small_voc12aug.py')
    from mmengine.config import ConfigDict
    _, model = build_segmentor(path)
    model.test_cfg = ConfigDict(mode=mode, crop_size=(64, 64),
                                stride=(40, 40))
    model.eval()
    batch = seg_batch(21, size=96)
    for sample in batch['data_samples']:
        sample.set_metainfo(dict(img_shape=(96, 96), ori_shape=(96, 96),
                                 pad_shape=(96, 96)))
    model.data_preprocessor.size = None
    model.data_preprocessor.size_divisor = 32
    with torch.no_grad():
        preds = model.test_step(batch)
    assert preds[0].pred_sem_seg.data.shape == (1, 96, 96)
    assert preds[0].seg_logits.data.shape == (21, 96, 96)
