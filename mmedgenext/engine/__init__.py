from .config_setup import (DataNotFoundError, apply_train_args,
                           check_data_roots, enable_visualization)

__all__ = [
    'DataNotFoundError', 'apply_train_args', 'check_data_roots',
    'enable_visualization'
]
