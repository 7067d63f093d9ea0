"""What the train/test tools do around the Runner: config set-up (work dir,
resume, data checks, drawing) and CPU multi-process runs."""
from .dist import finish_distributed, init_cpu_distributed
from .run_setup import (DataNotFoundError, apply_train_args, check_data_roots,
                        enable_visualization)

__all__ = [
    'DataNotFoundError', 'apply_train_args', 'check_data_roots',
    'enable_visualization', 'finish_distributed', 'init_cpu_distributed'
]
