"""Deployment by task: one module per :attr:`mmedgenext.tasks.Task.kind`,
imported when a config of that kind is deployed (the detectors' import
mmdet)."""
import importlib

from mmedgenext.tasks import task_for
from .base import DeployTask, OnnxMismatchError

# Task kind -> (module of this package, its DeployTask class).
_DEPLOY_TASKS = {
    'classifier': ('classifier', 'ClassifierDeploy'),
    'detector': ('detector', 'DetectorDeploy'),
    'cvnets_detector': ('cvnets_detector', 'CvnetsDetectorDeploy'),
    'segmentor': ('segmentor', 'SegmentorDeploy'),
}


def deploy_task(cfg, model=None):
    """The :class:`DeployTask` of a config's task (:func:`task_for`; the
    detectors' head type from ``model`` where given)."""
    task = task_for(cfg, model)
    module, name = _DEPLOY_TASKS[task.kind]
    return getattr(importlib.import_module(f'.{module}', __name__),
                   name)(task)


__all__ = ['DeployTask', 'OnnxMismatchError', 'deploy_task']
