from .convert import (convert_state_dict, detect_format, extract_state_dict,
                      to_classifier_layout)
from .io import UnsafeCheckpointError, read_checkpoint, resolve_checkpoint
from .loading import load_pretrained
from .runner_loading import refuse_unsafe_checkpoints  # registers it
from .zoo import MODEL_ZOO

__all__ = [
    'MODEL_ZOO', 'UnsafeCheckpointError', 'convert_state_dict',
    'detect_format', 'extract_state_dict', 'load_pretrained',
    'read_checkpoint', 'refuse_unsafe_checkpoints', 'resolve_checkpoint',
    'to_classifier_layout'
]
