"""type='mmedgenext.X' from mmdet, mmseg and mmpretrain configs, with
``custom_imports=dict(imports=['mmedgenext'])`` alone; what importing the
plugin imports."""
import glob
import json
import os

import pytest
import torch
from helpers import ROOT, plugin_type_cfgs, run_tool
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope

BACKBONE = dict(type='mmedgenext.EdgeNeXt', arch='xx_small')
CUSTOM_IMPORTS = dict(imports=['mmedgenext'], allow_failed_imports=False)
# What the configs of each library build from the plugin.
PLUGIN_TYPES = {
    'mmdet': {'EdgeNeXt', 'EdgeFormer', 'SSDLiteHead', 'CvnetsSSDNeck',
              'CvnetsSSDHead'},
    'mmseg': {'EdgeNeXt', 'EdgeFormer', 'CvnetsASPPHead',
              'NearestResizeEncoderDecoder', 'CheckSegMapSize'},
    'mmpretrain': {'EdgeNeXt', 'EdgeFormer', 'DropoutLinearClsHead',
                   'MultiScaleClsDataPreprocessor'},
}
# Neither of these is needed to import the plugin or its checkpoint loader.
HEAVY_MODULES = ('mmdet', 'mmseg', 'mmpretrain', 'mmcv.ops', 'mmcv._ext',
                 'onnxruntime', 'openvino', 'onnx')


def test_mmdet_detector_with_edgenext():
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    detector = MODELS.build(
        dict(type='RetinaNet',
             data_preprocessor=dict(type='DetDataPreprocessor'),
             backbone=dict(BACKBONE, out_indices=(1, 2, 3)),
             neck=dict(type='FPN', in_channels=[48, 88, 168],
                       out_channels=32, start_level=0,
                       add_extra_convs='on_input', num_outs=5),
             bbox_head=dict(
                 type='RetinaHead', num_classes=3, in_channels=32,
                 feat_channels=32, stacked_convs=1,
                 anchor_generator=dict(
                     type='AnchorGenerator', octave_base_scale=4,
                     scales_per_octave=1, ratios=[1.0],
                     strides=[8, 16, 32, 64, 128]),
                 bbox_coder=dict(type='DeltaXYWHBBoxCoder'),
                 loss_cls=dict(type='FocalLoss', use_sigmoid=True),
                 loss_bbox=dict(type='L1Loss')),
             train_cfg=dict(
                 assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5,
                               neg_iou_thr=0.4),
                 allowed_border=-1, pos_weight=-1),
             test_cfg=dict(nms_pre=100, score_thr=0.05, max_per_img=10,
                           nms=dict(type='nms', iou_threshold=0.5))))
    assert type(detector.backbone).__module__.startswith('mmedgenext')
    feats = detector.extract_feat(torch.randn(1, 3, 128, 128))
    assert [f.shape[-1] for f in feats] == [16, 8, 4, 2, 1]


def test_mmseg_segmentor_with_edgenext():
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    segmentor = MODELS.build(
        dict(type='EncoderDecoder',
             data_preprocessor=dict(type='SegDataPreProcessor'),
             backbone=BACKBONE,
             decode_head=dict(type='FCNHead', in_channels=168, channels=16,
                              num_convs=1, num_classes=4, in_index=3)))
    out = segmentor(torch.randn(1, 3, 64, 64), mode='tensor')
    assert out.shape == (1, 4, 2, 2)


def test_mmpretrain_classifier_with_edgenext():
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    classifier = MODELS.build(
        dict(type='ImageClassifier',
             backbone=dict(BACKBONE, out_indices=(3, ),
                           gap_before_final_norm=True),
             head=dict(type='LinearClsHead', num_classes=7, in_channels=168)))
    assert classifier(torch.randn(2, 3, 64, 64), mode='tensor').shape == (2, 7)
    # mmpretrain's own EdgeNeXt is untouched by the plugin.
    assert MODELS.get('EdgeNeXt').__module__.startswith('mmpretrain')


def test_plugin_scope_builds_without_framework():
    from mmedgenext.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmedgenext'):
        model = MODELS.build(dict(type='EdgeNeXt', arch='xx_small_bn_hs'))
    assert model.norm_cfg == dict(type='BN')


@pytest.fixture(scope='module')
def configs():
    """Every config (not its bases), read as mmengine reads it."""
    paths = sorted(glob.glob(os.path.join(ROOT, 'configs', '*.py')) +
                   glob.glob(os.path.join(ROOT, 'configs', 'examples',
                                          '*.py')))
    return {path: Config.fromfile(path, import_custom_modules=False)
            for path in paths}


@pytest.mark.slow
def test_configs_import_just_the_plugin(configs):
    for path, cfg in configs.items():
        if plugin_type_cfgs(cfg):
            assert cfg.get('custom_imports') == CUSTOM_IMPORTS, path


# A fresh process does what mmengine's Runner does with each config: read
# it (importing its custom_imports) and build from the root registries in
# the config's default scope; here every 'mmedgenext.X' dict in it, the
# model's under MODELS, the pipelines' under TRANSFORMS.
_BUILD_PLUGIN_TYPES = """
import json, sys
sys.path.insert(0, 'tests')
from helpers import plugin_type_cfgs
from mmengine.config import Config
from mmengine.registry import MODELS, TRANSFORMS, init_default_scope
assert 'mmedgenext' not in sys.modules
built = {}
for path in sys.argv[1:]:
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    for name, (key, type_cfg) in plugin_type_cfgs(cfg).items():
        if name not in built:
            registry = MODELS if key == 'model' else TRANSFORMS
            built[name] = type(registry.build(type_cfg)).__module__
print(json.dumps(built))
"""


@pytest.mark.slow
@pytest.mark.parametrize('library', sorted(PLUGIN_TYPES))
def test_custom_imports_register_every_type_the_configs_build(
        configs, library):
    """``custom_imports=dict(imports=['mmedgenext'])`` is all a config
    needs: a fresh process builds every plugin type of the library's
    configs (heads, necks, segmentors, data preprocessors, transforms,
    backbones) from the library's scope."""
    paths = [path for path, cfg in configs.items()
             if cfg.get('default_scope') == library]
    result = run_tool('-c', _BUILD_PLUGIN_TYPES, *paths)
    assert result.returncode == 0, result.stderr[-2000:]
    built = json.loads(result.stdout.splitlines()[-1])
    assert set(built) == PLUGIN_TYPES[library]
    assert all(module.startswith('mmedgenext.models.')
               or module == 'mmedgenext.datasets.transforms'
               for module in built.values()), built


def test_importing_the_plugin_leaves_the_libraries_alone():
    """``import mmedgenext`` (and ``from mmedgenext import EdgeNeXt``)
    imports no detection, segmentation or classification library, no
    compiled mmcv op and no runtime beyond what mmengine's Runner imports
    (on torch 2.1 its dynamo loads ONNX Runtime), and registers the
    Runner's checkpoint loader."""
    code = (
        'import sys\n'
        'from mmengine.runner import CheckpointLoader\n'
        f'heavy = {HEAVY_MODULES!r}\n'
        'before = {m for m in heavy if m in sys.modules}\n'
        'import mmedgenext\n'
        'from mmedgenext.checkpoint import runner_loading\n'
        "assert CheckpointLoader._schemes[''] is "
        'runner_loading.load_from_mmedgenext\n'
        'from mmedgenext import EdgeFormer, EdgeNeXt\n'
        "EdgeNeXt('xx_small'), EdgeNeXt('xx_small_bn_hs'), EdgeFormer()\n"
        'print(sorted(m for m in heavy if m in sys.modules and m not in '
        'before))\n')
    result = run_tool('-c', code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == '[]'
