"""tools/get_flops.py prints the sizes configs/*metafile*.yml lists (which
test_config_sizes.py checks against the counter and the papers), for a
detector, a segmentor, a classifier and EdgeFormer, and its per-stage table
adds up to the total."""
import re
import subprocess
import sys

import pytest
from helpers import ROOT, listed_sizes


def get_flops(*args):
    return subprocess.run([sys.executable, 'tools/get_flops.py', *args],
                          cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize('config', [
    'configs/ssdlite_edgenext_small_coco.py',
    'configs/deeplabv3_edgenext_small_voc12aug_cvnets.py',
    'configs/edgenext_xx_small_in1k.py',
    'configs/ssdlite_edgeformer_s_coco.py',
])
@pytest.mark.slow
def test_prints_the_listed_size(config):
    params, madds, size = listed_sizes()[config]
    assert get_flops(config) == (
        f'{config.split("/")[-1]} at {size}x{size}: '
        f'{params / 1e6:.2f}M params ({params:,}), '
        f'{madds / 1e6:.2f}M MAdds\n')


@pytest.mark.slow
def test_shape_and_per_stage_rows_add_up():
    out = get_flops('configs/deeplabv3_edgenext_xx_small_voc12aug.py',
                    '--shape', '128', '--per-stage')
    total = float(re.search(r'at 128x128: .*, ([\d.]+)M MAdds', out)[1])
    rows = re.findall(r'^\| (\S[^|]*) \| ([\d.]+)M \|$', out, re.M)
    assert [name for name, _ in rows] == [
        f'backbone.stages.{i}' for i in range(4)] + ['everything else']
    assert sum(float(v) for _, v in rows) == pytest.approx(total, abs=0.03)
    assert all(float(v) > 0 for _, v in rows)
