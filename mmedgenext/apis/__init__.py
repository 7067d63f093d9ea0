"""The public Python API: configs to models, with light imports (no ONNX
Runtime), for the tools and for users' scripts."""
from .builder import build_model, input_shape, load_config

__all__ = ['build_model', 'input_shape', 'load_config']
