"""Deployment: ONNX export of classifiers, SSD detectors and segmentors,
checks against PyTorch, sessions in every runtime, int8 quantization,
evaluation of the graphs by the Runner; what differs by task lives in
:mod:`.tasks` (one module per :attr:`mmedgenext.tasks.Task.kind`).

Importing the package loads no runtime and no detection library; each is
imported where it is used."""
from .export import (DEFAULT_OPSET, deploy_graph, export_onnx, graph_input,
                     size_from_test_pipeline, switch_to_deploy)
from .images import noise_images, pipeline_images
from .nms import non_max_suppression
from .runtimes import load_runtime
from .tasks import DeployTask, OnnxMismatchError, deploy_task
from .verify import verify_onnx

__all__ = [
    'DEFAULT_OPSET', 'DeployTask', 'OnnxMismatchError', 'deploy_graph',
    'deploy_task', 'export_onnx', 'graph_input', 'load_runtime',
    'noise_images', 'non_max_suppression', 'pipeline_images',
    'size_from_test_pipeline', 'switch_to_deploy', 'verify_onnx'
]
