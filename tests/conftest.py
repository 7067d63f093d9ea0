import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))
torch.set_num_threads(2)


def randomize_(model, seed=0):
    """Give every parameter and BN statistic a non-trivial random value, so
    layer scales of 1e-6 cannot hide a wrong block."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                continue
            noise = torch.randn(t.shape, generator=g)
            if name.endswith('running_var'):
                t.copy_(noise.abs() + 0.5)
            elif name.endswith(('gamma', 'gamma_xca')) or (
                    t.dim() == 1 and name.endswith('weight')):
                t.copy_(1 + 0.3 * noise)  # layer scales and norm weights
            else:
                fan_in = t[0].numel() if t.dim() > 1 else 1
                t.copy_(noise * (0.2 if t.dim() == 1 else fan_in**-0.5))
    return model


@pytest.fixture
def rand_input():
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))


def train_briefly(cfg, work):
    """Train ``cfg`` (a short iteration-based run) and dump it into
    ``work``; return the config file and the last checkpoint, what the
    tools take."""
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    cfg.dump(str(work / 'cfg.py'))
    return str(work / 'cfg.py'), os.path.join(cfg.work_dir,
                                              f'iter_{runner.iter}.pth')
