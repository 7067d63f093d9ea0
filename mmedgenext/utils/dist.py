"""Multi-process runs on machines without a GPU (gloo), and their clean
end."""
import os
import subprocess


def _slurm_environment():
    """The torch.distributed variables of a Slurm task, as mmengine's
    ``_init_dist_slurm`` sets them: ranks from Slurm's task ids, the job's
    first host as master, port ``MASTER_PORT`` or 29500."""
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ['SLURM_LOCALID']
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {os.environ["SLURM_NODELIST"]} '
            '| head -n1')


def init_cpu_distributed(cfg):
    """Let ``--launcher pytorch`` (torchrun) and ``--launcher slurm`` train
    on machines without a GPU.

    mmengine 0.10.7 calls ``torch.cuda.set_device(local_rank)`` before
    creating the process group (``_init_dist_pytorch`` and
    ``_init_dist_slurm`` in ``mmengine/dist/utils.py``) and gives DDP the
    local rank as its device (``Runner.wrap_model``), both as
    open-mmlab/mmengine#973 made them; both fail without CUDA, and no
    upstream issue tracks CPU launches. Here the gloo process group is
    created first (the Runner then skips its own) and DDP gets no device
    ids. Drop this once mmengine skips ``set_device`` without CUDA.
    """
    import torch
    import torch.distributed as dist
    launcher = cfg.get('launcher', 'none')
    if (launcher not in ('pytorch', 'slurm') or torch.cuda.is_available()
            or dist.is_initialized()):
        return cfg
    if launcher == 'slurm':
        _slurm_environment()
    dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = dict(wrapper, device_ids=None)
    return cfg


def finish_distributed():
    """End a multi-process run with every rank at the same point.

    Without this, the first rank to exit closes its gloo connections while
    another rank is still finishing (saving its last checkpoint, say); gloo
    raises in that rank's background thread and the process aborts
    (SIGABRT), failing the whole torchrun job after training succeeded.
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
