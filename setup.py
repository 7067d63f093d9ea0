import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

# What `mim search/train/test mmedgenext` read from the installed package,
# as OpenMMLab packages ship them: mmedgenext/.mim/{model-index.yml,
# configs,tools}. Copied into wheels and sdists, linked for editable installs
# (mim reads only package directories, so an editable install of the
# PEP 660 kind is not found by mim; use `pip install .` there).
MIM_FILES = ('model-index.yml', 'configs', 'tools')


def add_mim_extension():
    editable = any(a in sys.argv for a in ('develop', 'editable_wheel'))
    if not editable and not any(
            a in sys.argv for a in ('bdist_wheel', 'sdist', 'install')):
        return
    target = osp.join('mmedgenext', '.mim')
    os.makedirs(target, exist_ok=True)
    for name in MIM_FILES:
        dst = osp.join(target, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if editable:
            os.symlink(osp.join('..', '..', name), dst)
        elif osp.isdir(name):
            shutil.copytree(name, dst, ignore=shutil.ignore_patterns(
                '__pycache__'))
        else:
            shutil.copyfile(name, dst)


def version():
    scope = {}
    with open('mmedgenext/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


BASE = [
    'torch>=2.1.2,<2.15',
    'torchvision>=0.16.2,<0.30',
    'numpy>=1.23',
    'mmengine>=0.10.0,<0.11',
    'protobuf>=4.22',
]
EXTRAS = {
    'det': ['mmdet>=3.0.0,<4'],
    # mmseg.models imports ftfy and regex without declaring them.
    'seg': ['mmsegmentation>=1.0.0,<2', 'ftfy', 'regex'],
    'cls': ['mmpretrain>=1.0.0,<2'],
    # tools/export_onnx.py (--simplify: onnxslim), tools/quantize_onnx.py
    'deploy': ['onnx', 'onnxruntime', 'onnxslim'],
    # OpenVINO as a second runtime, NNCF for its int8; neither moves numpy
    # (both accept 1.24-2.4 at their newest) nor depends on torch.
    'openvino': ['openvino>=2024.0', 'nncf>=2.10'],
}
ALL = [r for extra in EXTRAS.values() for r in extra]
# What the suite needs beyond everything: two workers, timm's EdgeNeXt as a
# reference (also the benchmark tools' peer), matplotlib for the deploy
# benchmark's chart.
TESTS = ['pytest', 'pytest-xdist', 'timm>=1.0', 'matplotlib']

add_mim_extension()
setup(
    name='mmedgenext',
    version=version(),
    description='EdgeNeXt backbone for OpenMMLab detection, segmentation '
    'and classification',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmedgenext', 'mmedgenext.*']),
    include_package_data=True,
    package_data={'mmedgenext': ['.mim/model-index.yml', '.mim/configs/**/*',
                                 '.mim/tools/**/*']},
    python_requires='>=3.9',
    # What every use needs; the suite runs on two stacks within these
    # ranges, torch 2.14.1 and 2.1.2 (docs/installation.md, "Tested
    # versions", which tests/test_docs.py holds to them). mmcv 2.1.0 is
    # needed with its ops (tools/setup_env.sh installs it); like mmdet,
    # mmseg and mmpretrain we check it at import instead of declaring it.
    # protobuf reads MindSpore checkpoints, which every task's loader
    # accepts.
    install_requires=BASE,
    # Each toolkit and each job as an extra (tests/test_install.py checks
    # that installing one adds nothing else).
    extras_require=dict(EXTRAS, all=ALL, tests=ALL + TESTS),
    license='Apache-2.0',
)
