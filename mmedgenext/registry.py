"""The plugin's registry scope.

``MODELS`` and ``TRANSFORMS`` are children of mmengine's root registries, so
configs of mmdet, mmseg and mmpretrain resolve ``type='mmedgenext.X'``:
mmengine imports ``mmedgenext.registry`` on seeing the scope prefix and looks
``X`` up here, and the first lookup imports the registry's ``locations``.
Those are the modules that register something: the backbones always, and
the parts built on each toolkit where that toolkit is installed (the
extras ``mmedgenext[det]``, ``[seg]``, ``[cls]``), so
``custom_imports=dict(imports=['mmedgenext'])`` is all a config needs while
``import mmedgenext`` itself imports none of those libraries. Norm and
activation layers registered by mmcv in the root registry stay visible from
this scope.
"""
import importlib.util

from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

# The modules built on each toolkit (by import name).
TOOLKIT_MODULES = {
    'mmdet': ['mmedgenext.models.dense_heads'],
    'mmseg': ['mmedgenext.models.decode_heads',
              'mmedgenext.models.segmentors'],
    'mmpretrain': ['mmedgenext.models.cls_heads',
                   'mmedgenext.models.data_preprocessors'],
}


def toolkit_installed(toolkit):
    """Whether ``toolkit`` (mmdet, mmseg, mmpretrain) can be imported, found
    without importing it."""
    return importlib.util.find_spec(toolkit) is not None


MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    scope='mmedgenext',
    # backbones, necks, LN2d: torch and mmcv only
    locations=['mmedgenext.models'] + [
        module for toolkit, modules in TOOLKIT_MODULES.items()
        if toolkit_installed(toolkit) for module in modules])
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
