"""The ImageNet configs: all build; each kind trains and validates on the
generator's tiny ImageNet-layout folder set (what a trained classifier
scores: test_learning.py); the multi-scale schedule works."""
import os
import subprocess
import sys

import pytest
import torch
from helpers import ROOT, save_official
from mmengine.config import Config
from mmengine.registry import init_default_scope
from reference_edgenext import official_state_dict, reference_forward

from mmedgenext.models import ARCH_SETTINGS
from mmedgenext.synthetic_data import write_classification_set

VARIANT_CONFIGS = {
    arch: os.path.join(ROOT, 'configs', f'edgenext_{arch}_in1k.py')
    for arch in ARCH_SETTINGS}


def load(path):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    return cfg


@pytest.mark.parametrize('arch', list(VARIANT_CONFIGS))
@pytest.mark.slow
def test_config_builds_the_published_classifier(arch):
    from mmpretrain.registry import MODELS
    cfg = load(VARIANT_CONFIGS[arch])
    model = MODELS.build(cfg.model)
    assert model.backbone.arch == arch
    assert model.head.fc.in_features == ARCH_SETTINGS[arch]['channels'][-1]
    assert cfg.model.backbone.drop_path_rate == (
        0.1 if arch.startswith(('small', 'base')) else 0.)
    uses_randaugment = any(t['type'] == 'RandAugment'
                           for t in cfg.train_dataloader.dataset.pipeline)
    assert uses_randaugment == arch.startswith(('small', 'base'))
    assert cfg.optim_wrapper.optimizer.lr == 6e-3
    assert cfg.auto_scale_lr.base_batch_size == 4096


def tiny_run_cfg(arch, tmp_path, num_classes=3):
    """The arch's ImageNet config on a tiny folder set, small sizes."""
    write_classification_set(str(tmp_path / 'data'), per_class_train=4,
                             per_class_val=4, size=72)
    cfg = load(VARIANT_CONFIGS[arch])
    cfg.model.data_preprocessor.num_classes = num_classes
    cfg.model.data_preprocessor.scales = (64, 96)
    cfg.model.head.num_classes = num_classes
    for loader, split in ((cfg.train_dataloader, 'train'),
                          (cfg.val_dataloader, 'val')):
        pipeline = loader.dataset.pipeline
        for t in pipeline:
            if t['type'] == 'RandomResizedCrop':
                t['scale'] = 96
            if t['type'] == 'ResizeEdge':
                t['scale'] = 80
            if t['type'] == 'CenterCrop':
                t['crop_size'] = 64
        loader.dataset = dict(type='CustomDataset',
                              data_root=str(tmp_path / 'data'),
                              data_prefix=split, pipeline=pipeline)
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator = cfg.test_evaluator = dict(type='Accuracy', topk=(1, ))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_hooks.logger.interval = 1
    return cfg


@pytest.mark.parametrize('arch', ['xx_small', 'xx_small_bn_hs', 'base'])
@pytest.mark.slow
def test_trains_and_validates_on_a_folder_set(arch, tmp_path):
    """LN, BN/Hardswish and Mixup/CutMix variants, multi-scale on; the
    checkpoint then feeds a dense-task backbone."""
    from mmengine.runner import Runner

    from mmedgenext.checkpoint import load_pretrained
    from mmedgenext.models import EdgeNeXt
    cfg = tiny_run_cfg(arch, tmp_path)
    if arch == 'base':  # the Mixup/CutMix recipe on a small network
        cfg.model.backbone.arch = 'xx_small'
        cfg.model.head.in_channels = 168
    cfg.train_cfg = dict(by_epoch=True, max_epochs=2, val_interval=2)
    cfg.param_scheduler = None
    cfg.optim_wrapper.optimizer.lr = 1e-3
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 6  # 12 images, batch 4, 2 epochs
    assert 'val/accuracy/top1' in runner.message_hub.log_scalars
    checkpoint = str(tmp_path / 'work' / 'epoch_2.pth')
    dense = EdgeNeXt(cfg.model.backbone.arch, out_indices=(2, 3),
                     output_stride=16)
    report = load_pretrained(dense, checkpoint)
    assert [k for k in report['missing'] if not k.startswith('norm2.')] == []
    assert report['format'] == 'mmedgenext' and not report['unexpected']


@pytest.mark.parametrize('arch', ['x_small', 'small_bn_hs'])
@pytest.mark.slow
def test_runner_evaluates_an_official_file_as_the_reference(arch, tmp_path):
    """What tools/test.py does: Runner + load_from an official release
    gives the reference's scores and top-1. The file's logits beyond the
    set's 3 classes are lowered by 30 so that top-1 is not trivially 0."""
    from mmengine.runner import Runner
    sd = official_state_dict(arch)
    sd['head.bias'][3:] -= 30
    _, path = save_official(tmp_path, arch, state_dict=sd)
    cfg = tiny_run_cfg(arch, tmp_path, num_classes=1000)
    cfg.load_from = path
    cfg.custom_hooks = []  # no EMA copy: evaluate the loaded weights
    runner = Runner.from_cfg(cfg)
    top1 = runner.test()['accuracy/top1']
    model = runner.model.eval()
    scores, logits, labels = [], [], []
    with torch.no_grad():
        for batch in runner.test_dataloader:
            data = model.data_preprocessor(batch, training=False)
            scores += [s.pred_score for s in model.test_step(batch)]
            logits.append(reference_forward(sd, data['inputs'], arch))
            labels += [s.gt_label for s in batch['data_samples']]
    logits, labels = torch.cat(logits), torch.cat(labels)
    assert len(labels) == 12 and logits.argmax(-1).max() < 3
    torch.testing.assert_close(torch.stack(scores).log(),
                               logits.log_softmax(-1), atol=1e-4, rtol=0)
    expected = 100 * (logits.argmax(-1) == labels).sum().item() / 12
    assert 0 < expected < 100  # neither all right nor all wrong
    assert top1 == pytest.approx(expected)
    # The same through the command line, as a user runs it.
    cfg_path = tmp_path / 'cfg.py'
    cfg.dump(str(cfg_path))
    out = subprocess.run([
        sys.executable, 'tools/test.py', str(cfg_path), path, '--work-dir',
        str(tmp_path / 'cli')
    ], cwd=ROOT, capture_output=True, text=True, check=True)
    assert f'accuracy/top1: {expected:.4f}' in out.stdout + out.stderr


def test_multi_scale_preprocessor_draws_sizes_only_in_training():
    from mmedgenext.models.data_preprocessors import \
        MultiScaleClsDataPreprocessor
    pre = MultiScaleClsDataPreprocessor(scales=(64, 96), mean=[0, 0, 0],
                                        std=[1, 1, 1])
    data = dict(inputs=[torch.rand(3, 128, 128) for _ in range(2)])
    sizes = {pre(data, training=True)['inputs'].shape[-1] for _ in range(30)}
    assert sizes == {64, 96}
    assert pre(data, training=False)['inputs'].shape[-1] == 128
    with pytest.raises(ValueError, match='scales'):
        MultiScaleClsDataPreprocessor(scales=(16, ))


def test_usi_configs_evaluate_at_their_crop():
    for name in ('small', 'base'):
        cfg = Config.fromfile(
            os.path.join(ROOT, 'configs', f'edgenext_{name}_usi_in1k.py'))
        resize = cfg.test_dataloader.dataset.pipeline[1]
        assert resize['scale'] == 269


def test_finetune_config_starts_from_imagenet_weights():
    cfg = Config.fromfile(
        os.path.join(ROOT, 'configs', 'edgenext_small_finetune_custom.py'))
    assert cfg.model.backbone.init_cfg.checkpoint == 'edgenext_small'
    assert cfg.model.head.num_classes == cfg.num_classes
    assert cfg.train_dataloader.dataset.type == 'CustomDataset'
