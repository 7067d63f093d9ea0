"""Deployment: ONNX export of classifiers, SSD detectors and segmentors,
checks against PyTorch, int8 quantization."""
from .export import DEFAULT_OPSET, deploy_graph, export_onnx, switch_to_deploy
from .images import noise_images, pipeline_images
from .nms import batched_nms
from .verify import (OnnxMismatchError, compare_outputs, onnx_session,
                     reference_outputs, run_onnx, verify_onnx)

__all__ = [
    'DEFAULT_OPSET', 'OnnxMismatchError',
    'batched_nms', 'compare_outputs', 'deploy_graph', 'export_onnx',
    'noise_images',
    'onnx_session', 'pipeline_images', 'reference_outputs', 'run_onnx',
    'switch_to_deploy', 'verify_onnx'
]
