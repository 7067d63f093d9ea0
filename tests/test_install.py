"""What installing the plugin adds and what it then registers, in an
environment a detection user has: torch, torchvision, mmcv, mmdet and the
ONNX packages, without mmseg, mmpretrain, timm or OpenVINO.

That environment is a real virtualenv (no system site-packages) whose
packages are this interpreter's, reached through a folder of symlinks that a
``.pth`` file adds: exactly the distributions of the seeds below and,
recursively, of what they declare. Building it takes about a second, where
installing torch and the stack afresh would take minutes and 6 GB; the
folder lies outside the venv, so pip never counts those packages as its own
to remove. Into it, ``pip install '.[det,deploy]'`` runs for real, offline
(``--no-index``: it can add nothing but the plugin from the source tree,
and fails if anything else were needed), with ``--report``. Then the
installed plugin (not this checkout) registers, builds, trains, exports
and counts a detector there, and stops with one line on a segmentation or
classification config.
"""
import collections
import glob
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT, cfg_path
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


# A detection user's environment, and what pip needs to build the plugin.
DETECTION_ENV = ('torch', 'torchvision', 'mmcv', 'mmdet', 'onnx',
                 'onnxruntime', 'onnxslim', 'pip', 'setuptools', 'wheel')
ABSENT = ('mmseg', 'mmpretrain', 'timm', 'openvino', 'nncf')


def _installed():
    return {canonicalize_name(d.metadata['Name']): d
            for d in importlib.metadata.distributions()}


def closure(seeds, dists):
    """The distributions of ``dists`` that ``seeds`` need, by name: the
    seeds and, recursively, their requirements (those their markers keep,
    with the extras asked for)."""
    todo, needed, done = [(s, '') for s in seeds], {}, set()
    while todo:
        name, extra = todo.pop()
        name = canonicalize_name(name)
        if (name, extra) in done:
            continue
        done.add((name, extra))
        needed[name] = dists[name]
        for line in dists[name].requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({'extra': extra}):
                todo += [(req.name, e) for e in ('', *req.extras)]
    return needed


def link_distributions(needed, dists, folder):
    """Symlink into ``folder`` the files of the distributions ``needed``:
    each top-level entry of their RECORDs as a whole, or one level down
    where a distribution not needed has files in it too (a namespace
    package)."""
    owners = collections.defaultdict(set)
    for name, dist in dists.items():
        for f in dist.files or []:
            if f.parts[0] not in ('..', '__pycache__'):
                owners[f.parts[:1]].add(name)
                owners[f.parts[:2]].add(name)
    linked = set()
    for name, dist in needed.items():
        for f in dist.files:
            if f.parts[0] in ('..', '__pycache__'):
                continue
            key = f.parts[:1] if owners[f.parts[:1]] <= set(needed) else \
                f.parts[:2]
            if key in linked:
                continue
            assert owners[key] <= set(needed), (key, owners[key])
            linked.add(key)
            os.makedirs(os.path.join(folder, *key[:-1]), exist_ok=True)
            os.symlink(dist.locate_file(os.path.join(*key)),
                       os.path.join(folder, *key))


def _env_distributions(python):
    out = subprocess.run([python, '-c', (
        'import importlib.metadata as m, json\n'
        'print(json.dumps(sorted([d.metadata["Name"], d.version] '
        'for d in m.distributions())))')], capture_output=True, text=True,
        check=True).stdout
    return [tuple(d) for d in json.loads(out)]


@pytest.fixture(scope='module')
def detection_env(tmp_path_factory):
    """The detection environment with the plugin installed from a copy of
    the source tree: its python, pip's report, its distributions before and
    after."""
    tmp = tmp_path_factory.mktemp('detection_env')
    dists = _installed()
    link_distributions(closure(DETECTION_ENV, dists), dists, tmp / 'links')
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip',
                    tmp / 'venv'], check=True)
    site, = glob.glob(str(tmp / 'venv' / 'lib' / 'python*' /
                          'site-packages'))
    with open(os.path.join(site, 'links.pth'), 'w') as f:
        f.write(f'import site; site.addsitedir({str(tmp / "links")!r})\n')
    python = str(tmp / 'venv' / 'bin' / 'python')
    src = tmp / 'src'
    for name in ('mmedgenext', 'configs', 'tools'):
        shutil.copytree(os.path.join(ROOT, name), src / name,
                        ignore=shutil.ignore_patterns('__pycache__', '.mim'))
    for name in ('setup.py', 'README.md', 'LICENSE', 'model-index.yml'):
        shutil.copy(os.path.join(ROOT, name), src / name)
    before = _env_distributions(python)
    subprocess.run([
        python, '-m', 'pip', 'install', '--no-index', '--no-build-isolation',
        '--disable-pip-version-check', '-q', '--report', tmp / 'report.json',
        f'{src}[det,deploy]'], check=True, capture_output=True, cwd=tmp)
    with open(tmp / 'report.json') as f:
        report = json.load(f)
    return dict(python=python, report=report, before=before,
                after=_env_distributions(python), tmp=tmp)


def _requirements_by_extra(metadata):
    """{extra ('' for the base): {requirement names}} of ``metadata``'s
    Requires-Dist."""
    by_extra = collections.defaultdict(set)
    for line in metadata['requires_dist']:
        req = Requirement(line)
        extra = '' if req.marker is None else str(req.marker).split(
            '"')[1]
        by_extra[extra].add(canonicalize_name(req.name))
    return dict(by_extra)


@pytest.mark.slow
def test_extras_per_toolkit_and_job(detection_env):
    """The plugin's metadata as pip built it: the base is what every use
    needs, each toolkit and each job an extra, ``all`` every extra,
    ``tests`` all of it and what the suite adds."""
    plugin, = detection_env['report']['install']
    extras = _requirements_by_extra(plugin['metadata'])
    assert extras.pop('') == {'torch', 'torchvision', 'numpy', 'mmengine',
                              'protobuf'}
    all_, tests = extras.pop('all'), extras.pop('tests')
    assert extras == {
        'det': {'mmdet'}, 'seg': {'mmsegmentation', 'ftfy', 'regex'},
        'cls': {'mmpretrain'}, 'deploy': {'onnx', 'onnxruntime', 'onnxslim'},
        'openvino': {'openvino', 'nncf'}}
    assert all_ == set().union(*extras.values())
    assert tests == all_ | {'pytest', 'pytest-xdist', 'timm', 'matplotlib'}


@pytest.mark.slow
def test_det_install_adds_only_the_plugin(detection_env):
    """Into torch, mmcv, mmdet and the ONNX packages, ``pip install
    '.[det,deploy]'`` installs mmedgenext alone and changes no installed
    version. Without the ONNX packages (torch, mmcv and mmdet only),
    ``'.[det]'`` would add protobuf too, the one exception: the base reads
    MindSpore checkpoints, which every task's loader accepts."""
    plugin, = detection_env['report']['install']
    assert plugin['metadata']['name'] == 'mmedgenext'
    assert plugin['requested_extras'] == ['deploy', 'det']
    assert detection_env['after'] == sorted(
        detection_env['before'] + [('mmedgenext', plugin['metadata'][
            'version'])])
    extras = _requirements_by_extra(plugin['metadata'])
    have = closure(('torch', 'torchvision', 'mmcv', 'mmdet'), _installed())
    assert (extras[''] | extras['det']) - set(have) == {'protobuf'}


# Run by the detection environment's python, outside the repository: what
# the installed plugin registers and runs there. Prints a JSON report.
_ONLY_MMDET = r"""
import contextlib, importlib.util, io, json, os, runpy, sys
from helpers import ROOT, cfg_path, det_small_cfg, train_briefly
report = dict(present=[m for m in sys.argv[1].split(',')
                       if importlib.util.find_spec(m)])
import mmedgenext
report['plugin'] = mmedgenext.__file__
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmedgenext.registry import MODELS as PLUGIN_MODELS
from mmedgenext.synthetic_data import write_detection_set

# custom_imports alone: the first mmedgenext.* lookup registers the parts
cfg = Config.fromfile(cfg_path('ssdlite_edgeformer_s_coco.py'))
init_default_scope(cfg.default_scope)
assert MODELS.get(cfg.model.bbox_head.type) is not None
report['registered'] = sorted(PLUGIN_MODELS.module_dict)


sys.path.append(os.path.join(ROOT, 'tools'))  # as python tools/X.py has it


def tool(name, *args):
    sys.argv = [name, *map(str, args)]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(os.path.join(ROOT, 'tools', name),
                           run_name='__main__')
    except SystemExit as e:
        return dict(exit=e.code, stdout=out.getvalue())
    return dict(exit=0, stdout=out.getvalue())


write_detection_set('det', num_train=4, num_val=2)
cfg = det_small_cfg(os.path.abspath('det'), os.path.abspath('work'),
                    iters=2, batch_size=2)
config, checkpoint = train_briefly(cfg, __import__('pathlib').Path('work'))
report['trained'] = os.path.isfile(checkpoint)
report['export'] = tool('export_onnx.py', config, checkpoint, '--out',
                        'det.onnx')
report['flops'] = tool('get_flops.py', config)
with open('mmseg_scope.py', 'w') as f:
    f.write("default_scope = 'mmseg'\nmodel = dict(type='EncoderDecoder')\n")
report['missing'] = {
    'seg train': tool('train.py',
                      cfg_path('deeplabv3_edgenext_xx_small_synthetic.py')),
    'seg scope': tool('get_flops.py', 'mmseg_scope.py'),
    'cls flops': tool('get_flops.py', cfg_path('edgenext_xx_small_in1k.py')),
    'cls export': tool('export_onnx.py',
                       cfg_path('edgenext_xx_small_synthetic_cls.py'),
                       'none', '--out', 'cls.onnx'),
}
print(json.dumps(report))
"""


@pytest.mark.slow
def test_only_mmdet_registers_and_runs_detection(detection_env):
    """With mmdet and no other toolkit: ``custom_imports=['mmedgenext']``
    registers the backbones and the detection parts (and nothing built on
    mmseg or mmpretrain), a detection config builds, trains, exports and is
    counted with the tools; a segmentation or classification config stops
    with one line naming the extra to install, whether its toolkit's own
    base config or its default_scope gives it away."""
    work = detection_env['tmp'] / 'work'
    work.mkdir()
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.path.join(ROOT, 'tests'))
    result = subprocess.run(
        [detection_env['python'], '-c', _ONLY_MMDET, ','.join(ABSENT)],
        cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report['present'] == []
    assert report['plugin'].startswith(str(detection_env['tmp'] / 'venv'))
    assert {'EdgeNeXt', 'EdgeFormer', 'CvnetsSSDNeck', 'SSDLiteHead',
            'CvnetsSSDHead'} <= set(report['registered'])
    assert not {'CvnetsASPPHead', 'NearestResizeEncoderDecoder',
                'DropoutLinearClsHead', 'MultiScaleClsDataPreprocessor'} & \
        set(report['registered'])
    assert report['trained']
    assert report['export']['exit'] == 0, report['export']
    assert 'detections, all matched' in report['export']['stdout']
    assert report['flops']['exit'] == 0, report['flops']
    assert 'M params' in report['flops']['stdout']
    seg = ("a segmentor config needs mmseg, which is not installed: pip "
           "install 'mmedgenext[seg]'")
    cls = ("a classifier config needs mmpretrain, which is not installed: "
           "pip install 'mmedgenext[cls]'")
    missing = report['missing']
    assert missing['seg train']['exit'] == 'error: ' + cfg_path(
        'deeplabv3_edgenext_xx_small_synthetic.py') + ': ' + seg
    assert missing['seg scope']['exit'] == f'error: mmseg_scope.py: {seg}'
    assert missing['cls flops']['exit'] == 'error: ' + cfg_path(
        'edgenext_xx_small_in1k.py') + ': ' + cls
    assert missing['cls export']['exit'] == 'error: ' + cfg_path(
        'edgenext_xx_small_synthetic_cls.py') + ': ' + cls
    assert all(m['stdout'] == '' for m in missing.values())


def test_import_checks_the_mmcv_version(tmp_path):
    """mmcv is not declared but checked on import, as mmdet does: an mmcv
    outside what mmdet 3.3 and mmseg 1.2 accept (here mmcv 2.2.0's
    metadata, first on the path) stops ``import mmedgenext`` with what to
    install, before anything imports mmcv."""
    info = tmp_path / 'mmcv-2.2.0.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text(
        'Metadata-Version: 2.1\nName: mmcv\nVersion: 2.2.0\n')
    result = subprocess.run(
        [sys.executable, '-c', 'import mmedgenext'], capture_output=True,
        text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(tmp_path), ROOT])))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        'ImportError: mmedgenext needs mmcv>=2.0.0rc4,<2.2.0 with its '
        'compiled ops (2.1.0: tools/setup_env.sh, or mim install '
        'mmcv==2.1.0); found mmcv 2.2.0')
