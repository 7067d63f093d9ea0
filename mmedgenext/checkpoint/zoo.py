"""Released checkpoints: the authors' EdgeNeXt ImageNet models
(github.com/mmaaz60/EdgeNeXt, README model zoo), MindCV's EdgeNeXt ImageNet
models (MindSpore ``.ckpt``; github.com/mindspore-lab/mindcv,
configs/edgenext/README.md) and EdgeFormer-S's classification, detection
and segmentation models (github.com/hkzhang-git/ParC-Net, README). Configs
name them in ``init_cfg`` or ``load_from`` by key, e.g.
``checkpoint='edgenext_small'``.

``top1`` is the published ImageNet-1k accuracy; ``crop`` the evaluation
recipe (``resize`` then centre ``crop``; USI models are evaluated at 0.95
crop_pct per the reference's ``usi_eval`` option). EdgeFormer entries give
the published ``metric`` and, since the three files share one name, the
``filename`` they are cached under.
"""
_RELEASES = 'https://github.com/mmaaz60/EdgeNeXt/releases/download'


def _entry(tag, filename, arch, top1, resize=292, crop=256):
    return dict(url=f'{_RELEASES}/{tag}/{filename}', arch=arch, top1=top1,
                resize=resize, crop=crop)


MODEL_ZOO = {
    'edgenext_xx_small': _entry('v1.0', 'edgenext_xx_small.pth', 'xx_small',
                                71.23),
    'edgenext_x_small': _entry('v1.0', 'edgenext_x_small.pth', 'x_small',
                               74.96),
    'edgenext_small': _entry('v1.0', 'edgenext_small.pth', 'small', 79.41),
    'edgenext_small_usi': _entry('v1.1', 'edgenext_small_usi.pth', 'small',
                                 81.07, resize=269),
    'edgenext_base': _entry('v1.2', 'edgenext_base.pth', 'base', 82.47),
    'edgenext_base_usi': _entry('v1.2', 'edgenext_base_usi.pth', 'base',
                                83.68, resize=269),
    'edgenext_base_in21k': _entry('v1.21', 'edgenext_base_IN21K.pth', 'base',
                                  83.31, resize=269),
    'edgenext_xx_small_bn_hs': _entry('v1.0', 'edgenext_xx_small_bn_hs.pth',
                                      'xx_small_bn_hs', 70.33),
    'edgenext_x_small_bn_hs': _entry('v1.0', 'edgenext_x_small_bn_hs.pth',
                                     'x_small_bn_hs', 74.87),
    'edgenext_small_bn_hs': _entry('v1.0', 'edgenext_small_bn_hs.pth',
                                   'small_bn_hs', 78.39),
}


# MindCV's README: the four Ascend 910 files (as listed at tag v0.3.0, the
# default_cfgs of its mindcv/models/edgenext.py) and the 910v2 file its
# current README lists. MindCV evaluates them as the authors do: a 292
# short side (image_resize 256 / crop_pct 0.875, bicubic), a 256 crop.
_MINDCV = 'https://download.mindspore.cn/toolkits/mindcv/edgenext'
_MINDCV_910V2 = ('https://download-mindspore.osinfra.cn/toolkits/mindcv/'
                 'edgenext')


def _mindcv(filename, arch, top1, base=_MINDCV):
    return dict(url=f'{base}/{filename}', arch=arch, top1=top1, resize=292,
                crop=256)


MODEL_ZOO.update({
    'mindcv_edgenext_xx_small': _mindcv('edgenext_xx_small-afc971fb.ckpt',
                                        'xx_small', 71.02),
    'mindcv_edgenext_x_small': _mindcv('edgenext_x_small-a200c6fc.ckpt',
                                       'x_small', 75.14),
    'mindcv_edgenext_small': _mindcv('edgenext_small-f530c372.ckpt',
                                     'small', 79.15),
    'mindcv_edgenext_base': _mindcv('edgenext_base-4335e9dc.ckpt', 'base',
                                    82.24),
    'mindcv_edgenext_xx_small_910v2': _mindcv(
        'edgenext_xx_small-cad13d2c-910v2.ckpt', 'xx_small', 70.64,
        base=_MINDCV_910V2),
})


_PARC = 'https://github.com/hkzhang-git/ParC-Net/raw/main/pretrained_models'


def _edgeformer(task, metric, value):
    return dict(url=f'{_PARC}/{task}/checkpoint_ema_avg.pt', arch='s',
                task=task, metric=metric, value=value,
                filename=f'edgeformer_s_{task}_checkpoint_ema_avg.pt')


MODEL_ZOO.update({
    'edgeformer_s': _edgeformer('classification', 'top1', 78.6),
    'edgeformer_s_ssdlite_coco': _edgeformer('detection', 'bbox_mAP', 28.8),
    'edgeformer_s_deeplabv3_voc': _edgeformer('segmentation', 'mIoU', 79.7),
})
