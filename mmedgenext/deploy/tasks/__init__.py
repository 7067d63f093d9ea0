"""Deployment by task: one module per kind of config, its
:class:`DeployTask` named where the kind is registered
(:func:`mmedgenext.tasks.register`) and imported when a config of that kind
is deployed (the detectors' import mmdet)."""
import importlib

from mmedgenext.tasks import task_for
from .base import DeployTask, OnnxMismatchError


def deploy_task(cfg, model=None):
    """The :class:`DeployTask` of a config's task (:func:`task_for`; the
    detectors' head type from ``model`` where given). ValueError for a
    kind registered without a deploy form."""
    task = task_for(cfg, model)
    if task.deploy is None:
        raise ValueError(f'{task.name} configs of kind {task.kind!r} have '
                         'no deploy form: they cannot be exported to ONNX')
    module, name = task.deploy.rsplit('.', 1)
    return getattr(importlib.import_module(module), name)(task)


__all__ = ['DeployTask', 'OnnxMismatchError', 'deploy_task']
