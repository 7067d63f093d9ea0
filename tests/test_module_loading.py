"""What the light entry points load, in a fresh interpreter (the modules in
``sys.modules`` afterwards): the API and the tasks module load no detection
library, no compiled mmcv ops and no runtime; counting a classifier's MAdds
(tools/get_flops.py) loads no runtime and nothing of the deploy package."""
import json

import pytest
from helpers import cfg_path, run_tool

pytestmark = pytest.mark.slow

# torch 2.1's dynamo (which mmengine.optim imports through
# torch.distributed) imports onnx and onnxruntime itself where they are
# installed: the entry points may load only what the stack loads without
# the plugin.
RUNTIMES = ('onnxruntime', 'openvino', 'onnx')
# mmdet, and mmcv's compiled ops (mmcv.ops loads mmcv._ext)
DETECTION = ('mmdet', 'mmcv.ops', 'mmcv._ext')


def _loaded(code):
    """What ``code``, run by a fresh interpreter from the repository root
    after ``import sys``, leaves in its variable ``loaded`` (module names
    read from ``sys.modules``)."""
    result = run_tool('-c', f'import sys\n{code}\nimport json\n'
                      'print(json.dumps(loaded))')
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


def _among(modules, families):
    """The modules of ``families`` (a package and its submodules)."""
    return sorted(m for m in modules
                  if any(m == f or m.startswith(f + '.') for f in families))


@pytest.fixture(scope='module')
def api_imports():
    """The modules ``import mmedgenext`` loads, and those loaded once the
    API and the tasks module are imported too and the tasks' sizes have
    reached the API."""
    return _loaded(
        'import mmengine.optim, mmengine.runner\n'
        'stack = sorted(sys.modules)\n'
        'import mmedgenext\n'
        'plugin = sorted(sys.modules)\n'
        'from mmedgenext.apis import input_shape\n'
        'from mmedgenext.tasks import task_for\n'
        'from mmengine.config import Config\n'
        'cfg = Config(dict(default_scope="mmdet", model=dict(\n'
        '    bbox_head=dict(type="CvnetsSSDHead"))))\n'
        'assert task_for(cfg).kind == "cvnets_detector"\n'
        'assert input_shape(cfg) == (320, 320), input_shape(cfg)\n'
        'loaded = dict(stack=stack, plugin=plugin, api=sorted(sys.modules))')


def test_apis_and_tasks_load_no_detection_library_or_runtime(api_imports):
    """What the API and the tasks add to the plugin itself (``import
    mmedgenext``, whose registration is another module's business)."""
    added = set(api_imports['api']) - set(api_imports['plugin'])
    assert {'mmedgenext.apis', 'mmedgenext.tasks'} <= added
    assert not _among(added, RUNTIMES + DETECTION + ('mmedgenext.deploy', ))


def test_import_apis_loads_no_detection_library_or_runtime(api_imports):
    assert not _among(api_imports['api'], DETECTION)
    assert _among(api_imports['api'], RUNTIMES) == _among(
        api_imports['stack'], RUNTIMES)


def test_get_flops_on_a_classifier_loads_no_runtime():
    """tools/get_flops.py on a classifier config: no runtime, nothing of
    mmedgenext.deploy. mmdet and mmcv's compiled ops come with
    mmpretrain.models itself, which builds the classifier: its
    mmcv.cnn.bricks.transformer tries ``import mmcv.ops`` (for a
    deprecated alias) and mmcv.ops loads mmcv._ext; keeping them out would
    mean hiding mmcv.ops from mmcv, so the test records that chain."""
    report = _loaded(
        'import mmpretrain.models\n'
        'by_mmpretrain = sorted(sys.modules)\n'
        'import runpy\n'
        'sys.path.append("tools")  # as python tools/get_flops.py has it\n'
        f'sys.argv = ["get_flops.py", {cfg_path("edgenext_xx_small_in1k.py")!r}]\n'  # noqa: E501
        'runpy.run_path("tools/get_flops.py", run_name="__main__")\n'
        'loaded = dict(by_mmpretrain=by_mmpretrain, all=sorted(sys.modules))')
    assert not _among(report['all'], ('mmedgenext.deploy', ))
    assert _among(report['all'], RUNTIMES) == _among(
        report['by_mmpretrain'], RUNTIMES)
    assert _among(report['by_mmpretrain'], DETECTION) == _among(
        report['all'], DETECTION)
    assert {'mmdet', 'mmcv._ext'} <= set(report['by_mmpretrain'])
