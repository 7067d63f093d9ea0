"""What the train/test tools do around the Runner: config set-up (work dir,
resume, data checks) and CPU multi-process runs (drawing test results is
the task's, :meth:`mmedgenext.tasks.Task.enable_visualization`)."""
from .dist import finish_distributed, init_cpu_distributed
from .run_setup import (DataNotFoundError, apply_train_args, check_data_roots,
                        run_runner)

__all__ = [
    'DataNotFoundError', 'apply_train_args', 'check_data_roots',
    'finish_distributed', 'init_cpu_distributed', 'run_runner'
]
