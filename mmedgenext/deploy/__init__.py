"""Deployment: ONNX export of classifiers, SSD detectors and segmentors,
checks against PyTorch, int8 quantization, evaluation of the graphs by the
Runner; what differs by task lives in :mod:`.tasks`."""
from .export import DEFAULT_OPSET, deploy_graph, export_onnx, switch_to_deploy
from .images import noise_images, pipeline_images
from .nms import batched_nms
from .tasks import DeployTask, OnnxMismatchError, task_for
from .verify import onnx_session, run_onnx, verify_onnx

__all__ = [
    'DEFAULT_OPSET', 'DeployTask', 'OnnxMismatchError', 'batched_nms',
    'deploy_graph', 'export_onnx', 'noise_images', 'onnx_session',
    'pipeline_images', 'run_onnx', 'switch_to_deploy', 'task_for',
    'verify_onnx'
]
