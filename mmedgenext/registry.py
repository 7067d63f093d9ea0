"""The plugin's registry scope.

``MODELS`` is a child of mmengine's root registry, so configs of mmdet, mmseg
and mmpretrain resolve ``type='mmedgenext.EdgeNeXt'`` (mmengine imports
``mmedgenext.registry`` on seeing the scope prefix, and ``locations`` then
imports the models). Norm and activation layers registered by mmcv in the root
registry stay visible from this scope.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    scope='mmedgenext',
    locations=['mmedgenext.models'])
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
