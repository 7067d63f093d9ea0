from .complexity import count_complexity
from .config_setup import (DataNotFoundError, apply_train_args,
                           check_data_roots, enable_visualization,
                           finish_distributed, init_cpu_distributed)

__all__ = [
    'DataNotFoundError', 'apply_train_args', 'check_data_roots',
    'count_complexity', 'enable_visualization', 'finish_distributed',
    'init_cpu_distributed'
]
