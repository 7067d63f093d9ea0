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
    # mmcv 2.1.0 must be built with its ops (tools/setup_env.sh does it);
    # like mmdet/mmseg/mmpretrain we check it at import time instead.
    install_requires=[
        'torch>=2.1',
        'torchvision',
        'mmengine==0.10.7',
        'mmdet==3.3.0',
        'mmsegmentation==1.2.2',
        'mmpretrain==1.2.0',
        'timm>=1.0',
        'numpy',
        'setuptools<81',  # mmengine imports pkg_resources
        'ftfy',  # mmseg.models imports these without declaring them
        'regex',
        'onnx',  # tools/export_onnx.py, tools/quantize_onnx.py
        'onnxruntime',
        'onnxslim',  # export_onnx.py --simplify
    ],
    extras_require=dict(tests=['pytest']),
    license='MIT',
)
