from . import runner_loading  # noqa: F401  (registers the Runner loader)
from .convert import (convert_state_dict, detect_format, extract_state_dict,
                      to_classifier_layout)
from .io import UnsafeCheckpointError, read_checkpoint, resolve_checkpoint
from .loading import load_pretrained
from .zoo import MODEL_ZOO

__all__ = [
    'MODEL_ZOO', 'UnsafeCheckpointError', 'convert_state_dict',
    'detect_format', 'extract_state_dict', 'load_pretrained',
    'read_checkpoint', 'resolve_checkpoint', 'to_classifier_layout'
]
