"""tools/get_flops.py: the published parameter counts exactly and MAdds
within 0.5% (paper Table 1; the authors' README) for the ImageNet configs
at 256x256."""
import os
import subprocess
import sys

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmedgenext.analysis import count_complexity

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PUBLISHED_MADDS_M = {
    'xx_small': 260.58, 'x_small': 538.0, 'small': 1260.59,
    'base': 3840.93, 'xx_small_bn_hs': 259.53, 'x_small_bn_hs': 535.84,
    'small_bn_hs': 1257.28,
}
PARAMS = {  # the reference architecture's counts, see test_backbone.py
    'xx_small': 1_327_216, 'x_small': 2_336_804, 'small': 5_586_832,
    'base': 18_511_292, 'xx_small_bn_hs': 1_326_184,
    'x_small_bn_hs': 2_335_008, 'small_bn_hs': 5_584_000,
}


@pytest.mark.parametrize('arch', list(PUBLISHED_MADDS_M))
@pytest.mark.slow
def test_imagenet_configs_match_the_published_complexity(arch):
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(
        os.path.join(ROOT, 'configs', f'edgenext_{arch}_in1k.py'))
    init_default_scope('mmpretrain')
    result = count_complexity(MODELS.build(cfg.model), (3, 256, 256))
    assert result['params'] == PARAMS[arch]
    madds = result['madds'] / 1e6
    assert abs(madds / PUBLISHED_MADDS_M[arch] - 1) < 0.005, madds


@pytest.mark.slow
def test_cli_on_a_segmentation_config():
    out = subprocess.run([
        sys.executable, 'tools/get_flops.py',
        'configs/deeplabv3_edgenext_xx_small_voc12aug.py', '--shape', '128',
        '--per-stage'
    ], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert 'at 128x128' in out and 'M MAdds' in out
    assert '| backbone.stages.3 |' in out


@pytest.mark.slow
def test_cli_on_a_detection_config():
    """SSDLite's tensor forward (per-level scores and boxes) counts too;
    the default input is the detection protocol's 320x320."""
    out = subprocess.run([
        sys.executable, 'tools/get_flops.py',
        'configs/ssdlite_edgenext_xx_small_coco.py'
    ], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert 'at 320x320: 2.28M params (2,282,796)' in out
