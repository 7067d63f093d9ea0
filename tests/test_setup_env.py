"""Where tools/setup_env.sh gets mmcv from (tools/mmcv_wheel.sh): the
machine's wheel cache first, then OpenMMLab's prebuilt wheel for the env's
torch and CUDA from the index `mim install` reads, a build only otherwise.

The index is a local copy of OpenMMLab's layout
(``<cpu|cuXYZ>/torch<minor>/index.html`` beside the wheels it lists) holding
small installable wheels, so pip does the choosing, offline; each wheel says
where it came from in ``mmcv.SOURCE``. The env's torch is a two-attribute
stand-in (``__version__``, ``version.cuda``), so that every torch/CUDA pair
is tried in any env; one test reads the env's real torch."""
import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile

import pytest
from helpers import ROOT

SCRIPT = os.path.join(ROOT, 'tools', 'mmcv_wheel.sh')
PYTHON_TAG = f'cp{sys.version_info.major}{sys.version_info.minor}'
PLATFORM = sysconfig.get_platform().replace('-', '_').replace('.', '_')
# mmcv's own setup.py compiles its ops with this standard, which
# mmcv_wheel.sh raises to C++20 for torch >= 2.10.
MMCV_CXX_STD = '-std=c++14'


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
    return f'{path},sha256={digest.decode().rstrip("=")},{len(data)}'


def write_wheel(folder, source, version='2.1.0', python=PYTHON_TAG):
    """An installable ``mmcv`` wheel whose ``mmcv.SOURCE`` is ``source``;
    ``folder/index.html`` lists it as OpenMMLab's index pages do."""
    os.makedirs(folder, exist_ok=True)
    tag = f'{python}-{python}-{PLATFORM}'
    info = f'mmcv-{version}.dist-info'
    files = {
        'mmcv/__init__.py':
        f'__version__ = {version!r}\nSOURCE = {source!r}\n',
        f'{info}/METADATA':
        f'Metadata-Version: 2.1\nName: mmcv\nVersion: {version}\n',
        f'{info}/WHEEL': 'Wheel-Version: 1.0\nGenerator: mmedgenext-tests\n'
        f'Root-Is-Purelib: false\nTag: {tag}\n',
    }
    name = f'mmcv-{version}-{tag}.whl'
    with zipfile.ZipFile(os.path.join(folder, name), 'w') as whl:
        record = []
        for path, text in files.items():
            whl.writestr(path, text)
            record.append(_record_line(path, text.encode()))
        record.append(f'{info}/RECORD,,')
        whl.writestr(f'{info}/RECORD', '\n'.join(record) + '\n')
    links = ''.join(f'<a href="{f}">{f}</a><br>\n'
                    for f in sorted(os.listdir(folder)) if f.endswith('.whl'))
    with open(os.path.join(folder, 'index.html'), 'w') as f:
        f.write(f'<html><body>\n{links}</body></html>\n')
    return name


def write_source_release(folder):
    """``mmcv-2.1.0.tar.gz`` laid out as mmcv's release on PyPI; the wheel
    built from it records the C++ standard its setup.py passed and whether
    the ops were asked for (``MMCV_WITH_OPS``)."""
    setup_py = f"""import os
from setuptools import setup

CXX_FLAGS = ['{MMCV_CXX_STD}']
with open(os.path.join('mmcv', 'build_info.py'), 'w') as f:
    f.write(f'CXX_FLAGS = {{CXX_FLAGS!r}}\\n'
            f'WITH_OPS = {{os.environ.get("MMCV_WITH_OPS")!r}}\\n')
setup(name='mmcv', version='2.1.0', packages=['mmcv'])
"""
    files = {'setup.py': setup_py,
             'mmcv/__init__.py': "__version__ = '2.1.0'\nSOURCE = 'built'\n"}
    os.makedirs(folder, exist_ok=True)
    with tarfile.open(os.path.join(folder, 'mmcv-2.1.0.tar.gz'), 'w:gz') as t:
        for path, text in files.items():
            data = text.encode()
            member = tarfile.TarInfo(f'mmcv-2.1.0/{path}')
            member.size = len(data)
            t.addfile(member, io.BytesIO(data))


def torch_stand_in(folder, version, cuda):
    """A ``torch`` package reporting ``version`` and ``cuda``."""
    os.makedirs(os.path.join(folder, 'torch'))
    with open(os.path.join(folder, 'torch', '__init__.py'), 'w') as f:
        f.write(f'__version__ = {version!r}\nfrom . import version\n')
    with open(os.path.join(folder, 'torch', 'version.py'), 'w') as f:
        f.write(f'cuda = {cuda!r}\nhip = None\n')
    return folder


def mmcv_wheel(tmp_path, torch_path=None):
    """Run mmcv_wheel.sh for this Python with the cache under tmp_path,
    the local index as MMEDGENEXT_MMCV_INDEX and the source release
    reachable only from tmp_path/pypi: (returncode, wheel path, log)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('PIP_')}
    env.update(XDG_CACHE_HOME=str(tmp_path / 'cache'),
               MMEDGENEXT_MMCV_INDEX=str(tmp_path / 'index'),
               PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX='1',
               PIP_FIND_LINKS=str(tmp_path / 'pypi'))
    if torch_path:
        env['PYTHONPATH'] = torch_path
    write_source_release(str(tmp_path / 'pypi'))
    run = subprocess.run(['bash', SCRIPT, sys.executable], env=env,
                         capture_output=True, text=True, timeout=600)
    return run.returncode, run.stdout.strip(), run.stderr


def wheel_module(path, module):
    with zipfile.ZipFile(path) as whl:
        scope = {}
        exec(whl.read(f'mmcv/{module}.py').decode(), scope)
    return scope


def openmmlab_index(tmp_path):
    """Wheels in every folder OpenMMLab publishes mmcv 2.1.0 in for torch
    2.1, each named after its folder; beside them what must not be taken:
    another mmcv version, another Python, a torch OpenMMLab has no folder
    for."""
    index = tmp_path / 'index'
    for variant in ('cpu', 'cu118', 'cu121'):
        folder = str(index / variant / 'torch2.1')
        write_wheel(folder, source=variant)
        write_wheel(folder, source='newer', version='2.2.0')
        write_wheel(folder, source='other python', python='cp38')
    write_wheel(str(index / 'cu130' / 'torch2.14'), source='cu130')
    return index


@pytest.mark.slow
@pytest.mark.parametrize('version, cuda, variant', [
    ('2.1.2+cu121', '12.1', 'cu121'),
    ('2.1.2+cpu', None, 'cpu'),
])
def test_prebuilt_wheel_for_the_envs_torch_and_cuda(tmp_path, version, cuda,
                                                    variant):
    openmmlab_index(tmp_path)
    code, wheel, log = mmcv_wheel(
        tmp_path, torch_stand_in(str(tmp_path / 'env'), version, cuda))
    assert code == 0, log
    cache = tmp_path / 'cache' / 'mmedgenext' / 'wheels' / f'torch-{version}'
    assert wheel == str(cache / f'mmcv-2.1.0-{PYTHON_TAG}-{PYTHON_TAG}-'
                        f'{PLATFORM}.whl')
    assert wheel_module(wheel, '__init__')['SOURCE'] == variant
    assert 'building' not in log


@pytest.mark.slow
def test_cached_wheel_comes_first(tmp_path):
    """Keyed by the env's real torch version; the index is not read."""
    import torch
    cache = tmp_path / 'cache' / 'mmedgenext' / 'wheels'
    name = write_wheel(str(cache / f'torch-{torch.__version__}'), 'cache')
    code, wheel, log = mmcv_wheel(tmp_path)
    assert code == 0, log
    assert wheel == str(cache / f'torch-{torch.__version__}' / name)
    assert 'looking' not in log and 'building' not in log


@pytest.mark.slow
def test_built_where_none_is_published(tmp_path):
    """torch 2.14: no folder on OpenMMLab's index (not even looked at);
    its headers need C++20."""
    openmmlab_index(tmp_path)
    code, wheel, log = mmcv_wheel(
        tmp_path, torch_stand_in(str(tmp_path / 'env'), '2.14.1+cu130',
                                 '13.0'))
    assert code == 0, log
    assert 'building mmcv 2.1.0' in log and 'looking' not in log
    assert os.path.dirname(wheel) == str(
        tmp_path / 'cache' / 'mmedgenext' / 'wheels' / 'torch-2.14.1+cu130')
    assert wheel_module(wheel, '__init__')['SOURCE'] == 'built'
    build = wheel_module(wheel, 'build_info')
    assert build['CXX_FLAGS'] == ['-std=c++20'] and build['WITH_OPS'] == '1'


@pytest.mark.slow
def test_built_where_the_index_has_none_for_this_python(tmp_path):
    folder = str(tmp_path / 'index' / 'cu121' / 'torch2.1')
    write_wheel(folder, source='other python', python='cp38')
    code, wheel, log = mmcv_wheel(
        tmp_path, torch_stand_in(str(tmp_path / 'env'), '2.1.2+cu121',
                                 '12.1'))
    assert code == 0, log
    assert 'looking' in log and 'building mmcv 2.1.0' in log
    assert wheel_module(wheel, '__init__')['SOURCE'] == 'built'
    build = wheel_module(wheel, 'build_info')
    assert build['CXX_FLAGS'] == [MMCV_CXX_STD] and build['WITH_OPS'] == '1'


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which('unshare'),
                    reason='mounting a small disk needs root and unshare')
def test_a_disk_too_small_for_torch_is_named_before_pip_runs(tmp_path):
    """An env without torch on a 64 MB disk (a tmpfs in a private mount
    namespace): setup_env.sh stops before pip starts, with the free space
    and the way out, instead of pip's "No space left on device" half-way
    through torch."""
    env = tmp_path / 'env'
    script = (f'mount -t tmpfs -o size=64m tmpfs {tmp_path} && '
              f'{sys.executable} -m venv --without-pip {env} && '
              f'tools/setup_env.sh {env}/bin/python')
    result = subprocess.run(['unshare', '-m', 'bash', '-c', script],
                            cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1, result.stderr
    assert ('only 0 GB free' in result.stderr
            and 'need about 8 GB' in result.stderr
            and 'make test PYTHON=' in result.stderr), result.stderr
    assert 'installing' not in result.stdout
