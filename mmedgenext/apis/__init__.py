"""The public Python API: configs to models, with light imports (no ONNX
Runtime, no deployment code), for the tools and for users' scripts."""
from .builder import (DEFAULT_SHAPES, TASKS, build_model, input_shape,
                      load_config, task_of)

__all__ = [
    'DEFAULT_SHAPES', 'TASKS', 'build_model', 'input_shape', 'load_config',
    'task_of'
]
