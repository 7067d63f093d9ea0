"""The plugin's registry scope.

``MODELS`` and ``TRANSFORMS`` are children of mmengine's root registries, so
configs of mmdet, mmseg and mmpretrain resolve ``type='mmedgenext.X'``:
mmengine imports ``mmedgenext.registry`` on seeing the scope prefix and looks
``X`` up here, and the first lookup imports the registry's ``locations``.
Those are every module that registers something, the ones built on mmdet,
mmseg and mmpretrain included, so ``custom_imports=dict(imports=
['mmedgenext'])`` is all a config needs while ``import mmedgenext`` itself
imports none of those libraries. Norm and activation layers registered by
mmcv in the root registry stay visible from this scope.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    scope='mmedgenext',
    locations=[
        'mmedgenext.models',  # backbones, necks, LN2d: torch and mmcv only
        'mmedgenext.models.dense_heads',  # mmdet
        'mmedgenext.models.decode_heads',  # mmseg
        'mmedgenext.models.segmentors',  # mmseg
        'mmedgenext.models.cls_heads',  # mmpretrain
        'mmedgenext.models.data_preprocessors',  # mmpretrain
    ])
TRANSFORMS = Registry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    scope='mmedgenext',
    locations=['mmedgenext.datasets'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    scope='mmedgenext',
    locations=['mmedgenext.utils.cpu_amp'])
