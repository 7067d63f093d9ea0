"""Deployment by task: one module per kind of model, each registering a
:class:`DeployTask`; :func:`task_for` picks a config's."""
from . import classifier, cvnets_detector, detector, segmentor  # noqa: F401
from .base import DeployTask, OnnxMismatchError, register_task, task_for

__all__ = ['DeployTask', 'OnnxMismatchError', 'register_task', 'task_for']
