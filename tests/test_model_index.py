"""model-index.yml (what `mim search mmedgenext` reads): every model points
at a config that exists, released weights and their published results come
from the model zoo (the sizes: test_config_sizes.py), and a built wheel
carries it where mim looks (``mmedgenext/.mim/``)."""
import glob
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from helpers import ROOT
from modelindex import load

from mmedgenext.checkpoint import MODEL_ZOO

METRIC_OF_ZOO_ENTRY = {'Top 1 Accuracy': ('top1', 'value'),
                       'box AP': ('value', ), 'mIoU': ('value', )}


@pytest.fixture(scope='module')
def models():
    return load(os.path.join(ROOT, 'model-index.yml')).models


def test_every_paper_config_is_listed_once(models):
    listed = [m.config for m in models]
    names = [m.name for m in models]
    assert len(set(names)) == len(names)
    for m in models:
        assert os.path.isfile(os.path.join(ROOT, m.config)), m.config
    expected = {
        os.path.relpath(p, ROOT)
        for pattern in ('*.py', 'examples/*.py')
        for p in glob.glob(os.path.join(ROOT, 'configs', pattern))
        if 'synthetic' not in p and 'finetune' not in p
    }
    assert expected == set(listed)


def test_weights_and_results_are_the_zoo_entries(models):
    by_url = {entry['url']: entry for entry in MODEL_ZOO.values()}
    released = [m for m in models if m.weights]
    # ten EdgeNeXt files, five MindCV EdgeNeXt files, three EdgeFormer files
    assert len(released) == len(MODEL_ZOO) == 18
    for m in released:
        entry = by_url[m.weights]
        (metric, value), = m.results[0].metrics.items()
        key = next(k for k in METRIC_OF_ZOO_ENTRY[metric] if k in entry)
        assert value == entry[key], m.name


@pytest.mark.slow
def test_wheel_carries_the_index_where_mim_looks(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    for name in ('setup.py', 'README.md', 'LICENSE', 'model-index.yml'):
        shutil.copy(os.path.join(ROOT, name), src / name)
    for name in ('mmedgenext', 'configs', 'tools'):
        shutil.copytree(os.path.join(ROOT, name), src / name,
                        ignore=shutil.ignore_patterns('__pycache__', '.mim'))
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-q', '-w', str(tmp_path), str(src)
    ], check=True, capture_output=True)
    wheel, = glob.glob(str(tmp_path / 'mmedgenext-*.whl'))
    files = set(zipfile.ZipFile(wheel).namelist())
    mim = 'mmedgenext/.mim/'
    assert mim + 'model-index.yml' in files
    assert mim + 'configs/metafile.yml' in files
    assert mim + 'tools/train.py' in files
    assert mim + 'tools/benchmarking/timing.py' in files
    for m in load(os.path.join(ROOT, 'model-index.yml')).models:
        assert mim + m.config in files, m.config
    assert mim + 'configs/_base_/models/ssdlite_edgenext.py' in files
