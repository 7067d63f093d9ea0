"""Configs to models ready for inference, export and counting: which
libraries' configs are taken (those a task serves, see
:mod:`mmedgenext.tasks`), their default input sizes and how the weights come
in."""
import logging

from mmengine.logging import MMLogger
from mmengine.registry import MODELS, DefaultScope, init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.utils import import_modules_from_strings

import mmedgenext  # noqa: F401  (registries, safe checkpoint loading)
from mmedgenext.checkpoint import (refuse_unsafe_checkpoints,
                                   resolve_checkpoint)
from mmedgenext.tasks import read_config, task_for


def load_config(path, cfg_options=None):
    """Read a config (:func:`~mmedgenext.tasks.read_config`: errors for a
    config that is not a classifier, detector or segmentor, or whose
    toolkit is not installed), enter its library's scope and import its
    plugins."""
    cfg = read_config(path, cfg_options)
    init_default_scope(cfg.default_scope)
    if 'custom_imports' in cfg:
        import_modules_from_strings(**cfg.custom_imports)
    return cfg


def input_shape(cfg, shape=None):
    """(H, W) from ``--shape H [W]``, else the task's default size."""
    size = list(shape or [task_for(cfg).default_size])
    h, w = (size * 2)[:2]
    return h, w


def build_model(cfg, checkpoint=None):
    """The config's model in eval mode, with the weights of ``checkpoint``
    (a path, URL or model-zoo name, loaded strictly; a file that would run
    code is refused) or, for None/'none',
    the config's random initialisation. The backbone's own pretrained
    weights (its ``init_cfg``, or mmseg's ``model.pretrained``) are
    dropped, so nothing is downloaded."""
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.pop('pretrained', None)
    if cfg.model.get('pretrained'):
        cfg.model.pretrained = None
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    if checkpoint in (None, 'none'):
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # not one line per parameter
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
    else:
        resolve_checkpoint(checkpoint)  # FileNotFoundError naming the path
        with refuse_unsafe_checkpoints():
            load_checkpoint(model, checkpoint, map_location='cpu',
                            strict=True, logger='silent')
    return model.eval()
