from setuptools import find_packages, setup


def version():
    scope = {}
    with open('mmedgenext/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmedgenext',
    version=version(),
    description='EdgeNeXt backbone for OpenMMLab detection, segmentation '
    'and classification',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmedgenext', 'mmedgenext.*']),
    python_requires='>=3.9',
    # The ranges the test suite runs on (README, "Tested versions"): CI runs
    # it under torch 2.14.1 and 2.1.2. mmcv 2.1.0 must be built with its ops
    # (tools/setup_env.sh does it); like mmdet/mmseg/mmpretrain we check it
    # at import time instead.
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
        'onnxruntime',
        'onnxslim',  # export_onnx.py --simplify
    ],
    extras_require=dict(tests=['pytest']),
    license='Apache-2.0',
)
