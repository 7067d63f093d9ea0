"""tools/benchmark_backbone.py (both modes) and tools/benchmark_deploy.py,
run in this process at tiny sizes and one round: each flag, given a value
other than its default, changes what runs, as the rows show it (each row
reports what it measured: the input fed, the threads and the precision that
ran), in every mode; configs come from the repository whatever the working
directory, and a missing one is an error. Speed itself is not asserted."""
import math
import os

import pytest
import torch
from helpers import cfg_path, run_in_process

pytestmark = pytest.mark.slow


@pytest.fixture
def in_other_folder(tmp_path, monkeypatch):
    """A working directory other than the repository's; PyTorch's threads
    restored after the tool set them."""
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _cells(line):
    return [c.strip() for c in line.strip('|').split('|')]


def _tables(stdout):
    """The markdown tables in ``stdout``, each as (header cells, rows of
    cells)."""
    tables, lines = [], []
    for line in stdout.splitlines() + ['']:
        if line.startswith('|'):
            lines.append(line)
        elif lines:
            tables.append((_cells(lines[0]),
                           [_cells(row) for row in lines[2:]]))
            lines = []
    return tables


def _table(stdout):
    """The first markdown table in ``stdout``: header cells, rows of
    cells."""
    return _tables(stdout)[0]


def _positive_finite(cell):
    value = float(cell)
    return math.isfinite(value) and value > 0


# A value other than the default for each flag (--device: the only device
# here, cpu, also its default).
BACKBONE_FLAGS = ('--archs', 'x_small', '--modes', 'maps', '--batch-sizes',
                  2, '--size', 64, '--rounds', 1, '--threads', 1, '--device',
                  'cpu')


def _skip_without_cpu_autocast(precision):
    dtype = {'bf16': torch.bfloat16, 'fp16': torch.float16}[precision]
    try:
        with torch.autocast('cpu', dtype):
            pass
    except RuntimeError:  # torch 2.1's CPU autocast takes bf16 only
        pytest.skip(f'this torch has no {precision} CPU autocast')


@pytest.mark.parametrize('precision', ['fp32', 'bf16'])
def test_backbone_benchmark_honours_every_flag(in_other_folder, precision):
    """Against timm, mmpretrain and MobileNetV2: one row per variant,
    output kind and batch, with the input, device, threads and autocast
    precision that ran, ours as trained and in deploy form, the peers, and
    the ratios to the faster of timm's and mmpretrain's EdgeNeXt."""
    flags = [] if precision == 'fp32' else [f'--{precision}']
    stdout = run_in_process('benchmark_backbone.py', *BACKBONE_FLAGS,
                            *flags)
    header, rows = _table(stdout)
    assert header == ['arch', 'output', 'input', 'device', 'threads',
                      'precision', 'mmedgenext', 'deploy', 'deploy convs',
                      'timm', 'mmpretrain', 'mobilenet_v2',
                      'ratio vs faster peer', 'deploy ratio',
                      'deploy vs convs']
    assert [r[:6] for r in rows] == [
        ['x_small', 'maps', '2x3x64x64', 'cpu', '1', precision]]
    assert all(_positive_finite(c) for c in rows[0][6:])
    assert 'median of 1 interleaved rounds' in stdout


@pytest.mark.parametrize('precision', ['bf16', 'fp16'])
def test_edgeformer_benchmark_honours_every_flag(in_other_folder, precision):
    """--edgeformer: EdgeFormer-S, then each EdgeNeXt variant asked for,
    in one row per output kind and batch with what ran, and the ratio to
    EdgeFormer-S."""
    _skip_without_cpu_autocast(precision)
    stdout = run_in_process('benchmark_backbone.py', '--edgeformer',
                            *BACKBONE_FLAGS, f'--{precision}')
    header, rows = _table(stdout)
    assert header == ['model', 'params', 'output', 'input', 'device',
                      'threads', 'precision', 'ms', 'vs EdgeFormer-S']
    ran = ['maps', '2x3x64x64', 'cpu', '1', precision]
    assert [[r[0]] + r[2:7] for r in rows] == [['EdgeFormer-S'] + ran,
                                               ['EdgeNeXt-x_small'] + ran]
    assert rows[0][-1] == '1.00'
    assert all(_positive_finite(c) for r in rows for c in r[-2:])
    assert 'median of 1 interleaved rounds' in stdout


def test_backbone_benchmark_needs_a_variant_timm_has():
    with pytest.raises(SystemExit) as exit_:
        run_in_process('benchmark_backbone.py', '--archs', 'xx_small_bn_hs')
    assert exit_.value.code == 2  # argparse's usage error


def _cpu_flags():
    with open('/proc/cpuinfo') as f:
        return next(line.split(':')[1].split() for line in f
                    if line.startswith('flags'))


def test_deploy_benchmark_honours_every_flag(in_other_folder):
    """The BN/Hardswish classifier (the repository's config, found from
    another folder) at 96 px, batch 2, one round, one thread, in each
    runtime and precision asked for: p50/p90, ratios to the same runtime's
    fp32 and to eager fp32 (1.00 on those rows themselves), the threads
    each runtime reports, or n/a with the reason. At 96 px: OpenVINO
    2026.4's CPU plugin crashes on the NNCF int8 IR of this classifier at
    64 px (a 2x2 last map)."""
    runtimes, precisions = ('eager', 'onnxruntime', 'openvino'), (
        'fp32', 'int8', 'bf16')
    stdout = run_in_process(
        'benchmark_deploy.py', '--archs', 'xx_small_bn_hs', '--models',
        'classifier', '--runtimes', *runtimes, '--precisions', *precisions,
        '--size', 96, '--batch-sizes', 2, '--rounds', 1, '--threads', 1,
        '--device', 'cpu')
    assert 'PyTorch threads: 1; torch ' in stdout
    assert '\ncpu; ms per batch' in stdout
    header, rows = _table(stdout)
    assert header == ['arch', 'model', 'input', 'runtime', 'precision',
                      'threads', 'b2 p50', 'b2 p90', 'b2 vs fp32',
                      'b2 vs eager']
    assert [r[:5] for r in rows] == [
        ['xx_small_bn_hs', 'classifier', '96', r, p]
        for r in runtimes for p in precisions]
    bf16 = {'avx512_bf16', 'amx_bf16'} & set(_cpu_flags())
    not_run = {('eager', 'int8'): 'int8 runs in the ONNX runtimes',
               ('onnxruntime', 'bf16'): 'no bf16 kernels in ONNX Runtime CPU'}
    if not bf16:
        not_run.update({(r, 'bf16'): 'no native bf16 on this CPU'
                        for r in ('eager', 'openvino')})
    for row in rows:
        key = tuple(row[3:5])
        if key in not_run:
            assert row[5:] == ['', f'n/a ({not_run[key]})', '', '', ''], row
            continue
        assert row[5] == '1', row  # the threads the runtime says it uses
        assert all(_positive_finite(c) for c in row[6:]), row
        if key[1] == 'fp32':
            assert row[8] == '1.00', row
        if key == ('eager', 'fp32'):
            assert row[9] == '1.00', row
    assert 'of 1 interleaved rounds' in stdout


def test_deploy_benchmark_finds_every_config(tmp_path):
    """A BN/Hardswish variant without configs of its own takes its
    LayerNorm sibling's, the backbone's arch set; configs missing from the
    folder are all named, before anything is built."""
    from benchmarking.deploy_models import deploy_models
    model, = deploy_models(['xx_small_bn_hs'], ['detector'],
                           os.path.dirname(cfg_path('x.py')))
    assert model.build.args == (
        cfg_path('ssdlite_edgenext_xx_small_coco.py'),
        {'model.backbone.arch': 'xx_small_bn_hs'})
    assert model.label == 'SSDLite-EdgeNeXt-xx_small_bn_hs'
    with pytest.raises(FileNotFoundError) as error:
        deploy_models(['xx_small_bn_hs'], ['classifier', 'detector'],
                      str(tmp_path))
    assert str(error.value) == (
        'no config for 2 of the models asked for: '
        f'{tmp_path}/edgenext_xx_small_bn_hs_in1k.py, '
        f'{tmp_path}/ssdlite_edgenext_xx_small_bn_hs_coco.py')


def test_deploy_benchmark_summary_and_chart(in_other_folder, monkeypatch,
                                            tmp_path):
    """MobileNetV2 and the BN/Hardswish classifier, interleaved: the
    summary gives each one's fastest runtime and precision (the lowest of
    its rows) and its ratio to MobileNetV2's fastest, with the published
    top-1 (torchvision's weights, the metafile); the chart is written, a
    panel per batch size, its points the rows' medians at the models'
    top-1, its front the points nothing beats."""
    from benchmarking import chart
    figures = []

    def draw(*args):
        figures.append(chart_draw(*args))
        return figures[-1]
    chart_draw = chart.draw
    monkeypatch.setattr(chart, 'draw', draw)
    png = tmp_path / 'chart.png'
    stdout = run_in_process(
        'benchmark_deploy.py', '--archs', 'xx_small_bn_hs', '--models',
        'mobilenet_v2', 'classifier', '--runtimes', 'onnxruntime',
        '--precisions', 'fp32', 'int8', '--size', 96, '--batch-sizes', 1, 2,
        '--rounds', 1, '--threads', 1, '--chart', png)
    (_, rows), (header, summary) = _tables(stdout)
    assert header == ['model', 'top-1', 'b1 best', 'b2 best',
                      'b1 vs reference', 'b2 vs reference',
                      'b1 OpenVINO fp32 vs timm', 'b2 OpenVINO fp32 vs timm']
    top1 = {'torchvision mobilenet_v2': 71.878, 'classifier': 70.33}
    assert [r[:2] for r in summary] == [['MobileNetV2', '71.878'],
                                        ['EdgeNeXt-xx_small_bn_hs', '70.33']]
    assert [r[4:6] for r in summary][0] == ['1.00', '1.00']
    for model, line in zip(top1, summary):
        mine = [r for r in rows if r[1] == model]
        for b, cell in enumerate(line[2:4]):
            ms, ran = cell.split(' ', 1)
            named, = [r for r in mine if ran == f'({r[3]} {r[4]})']
            p50 = float(named[6 + 2 * b])  # printed to 0.1: ties possible
            assert p50 == min(float(r[6 + 2 * b]) for r in mine)
            assert abs(float(ms) - p50) <= 0.05 + 0.005 + 1e-9  # roundings
        assert _positive_finite(line[4]) and _positive_finite(line[5])
    assert f'chart: {png} (8 points)' in stdout
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    axes = figures[0].axes
    assert len(axes) == 2
    for b, ax in enumerate(axes):
        drawn = sorted((round(float(line.get_xdata()[0]), 1),
                        float(line.get_ydata()[0]))
                       for line in ax.lines if line.get_gid() == 'point')
        assert drawn == sorted((float(r[6 + 2 * b]), top1[r[1]])
                               for r in rows)
        front, = [line for line in ax.lines if line.get_gid() == 'front']
        front = set(zip(front.get_xdata(), front.get_ydata()))
        points = {(line.get_xdata()[0], line.get_ydata()[0])
                  for line in ax.lines if line.get_gid() == 'point'}
        assert front and front <= points
        for x, y in front:  # nothing both at least as fast and accurate
            assert not any(px <= x and py >= y and (px, py) != (x, y)
                           for px, py in points)
        for x, y in points - front:  # each beaten by a point of the front
            assert any(fx <= x and fy >= y for fx, fy in front)
