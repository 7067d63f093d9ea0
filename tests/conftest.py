"""Fixtures; the helpers modules share are in helpers.py."""
import os
import random
import sys

import numpy as np

import pytest
import torch
from mmengine.visualization import Visualizer

sys.path.insert(0, os.path.dirname(__file__))
# The benchmark tools' shared modules (tools/benchmarking), which are not
# installed: appended, so that tools/test.py never shadows the stdlib's test.
sys.path.append(os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'tools'))
if os.environ.get('PYTEST_XDIST_WORKER'):
    # `make test` runs two workers on two cores: one thread each, for this
    # process and the tools it starts (OpenMP threads that outnumber the
    # cores wait on each other for whole time slices).
    os.environ['OMP_NUM_THREADS'] = '1'
    torch.set_num_threads(1)
else:
    torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def seeded():
    """Every test draws from the same seeded generators: a random input or
    initialisation is the same on every run, so a comparison's tolerance
    holds on the values it was set on."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


def _with_subclasses(cls):
    yield cls
    for sub in cls.__subclasses__():
        yield from _with_subclasses(sub)


@pytest.fixture(autouse=True)
def fresh_visualizers():
    """mmengine keeps a visualizer per name for the whole process, with the
    save_dir of the Runner that built it first, and the stock configs all
    name theirs 'visualizer': forgotten after each test, so that every
    test's Runner writes into its own work_dir, not into an earlier test's
    (which pytest has deleted by then)."""
    yield
    for cls in _with_subclasses(Visualizer):
        cls._instance_dict.clear()


@pytest.fixture(scope='session')
def trained_segmentor(tmp_path_factory):
    """helpers.segmentor_recipe's DeepLabv3, trained once per test run."""
    from helpers import segmentor_recipe, train_once
    return train_once(tmp_path_factory, 'segmentor', segmentor_recipe)


@pytest.fixture(scope='session')
def trained_detector(tmp_path_factory):
    """helpers.detector_recipe's SSDLite, trained once per test run."""
    from helpers import detector_recipe, train_once
    return train_once(tmp_path_factory, 'detector', detector_recipe)


@pytest.fixture
def rand_input():
    g = torch.Generator().manual_seed(1)
    return torch.randn(2, 3, 64, 64, generator=g)
