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
    # What the plugin accepts; the suite runs on two stacks within it,
    # torch 2.14.1 and 2.1.2 (docs/installation.md, "Tested versions", which
    # tests/test_docs.py holds to these ranges). mmcv 2.1.0 is needed with
    # its ops (tools/setup_env.sh installs it); like mmdet/mmseg/mmpretrain
    # we check it at import time instead.
    install_requires=[
        'torch>=2.1.2,<2.15',
        'torchvision>=0.16.2,<0.30',
        'numpy>=1.23',
        'mmengine>=0.10.0,<0.11',
        'mmdet>=3.0.0,<4',
        'mmsegmentation>=1.0.0,<2',
        'mmpretrain>=1.0.0,<2',
        'timm>=1.0',
        'setuptools<81',  # mmengine imports pkg_resources
        'ftfy',  # mmseg.models imports these without declaring them
        'regex',
        'onnx',  # tools/export_onnx.py, tools/quantize_onnx.py
        'protobuf>=4.22',  # MindSpore .ckpt files (GetMessageClass)
        'onnxruntime',
        'onnxslim',  # export_onnx.py --simplify
    ],
    # OpenVINO as a second runtime, NNCF for its int8
    # (tools/benchmark_deploy.py, quantize_onnx.py --runtime openvino).
    # Optional, so that a user's numpy is never moved: both accept numpy
    # 1.24-2.4 at their newest, and neither depends on torch. The suite
    # runs on two workers (pytest-xdist).
    extras_require=dict(
        openvino=['openvino>=2024.0', 'nncf>=2.10'],
        tests=['pytest', 'pytest-xdist', 'openvino>=2024.0', 'nncf>=2.10']),
    license='Apache-2.0',
)
