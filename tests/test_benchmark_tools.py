"""tools/benchmark_backbone.py (both modes) and tools/benchmark_deploy.py,
run in this process at tiny sizes and one round: each flag, given a value
other than its default, changes what runs, as the rows show it (each row
reports what it measured: the input fed, the threads and the precision that
ran), in every mode; configs come from the repository whatever the working
directory, and a missing one is an error. Speed itself is not asserted."""
import math

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


def _table(stdout):
    """The markdown table in ``stdout``: header cells, rows of cells."""
    lines = [line for line in stdout.splitlines() if line.startswith('|')]
    return _cells(lines[0]), [_cells(line) for line in lines[2:]]


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


def test_deploy_benchmark_refuses_a_missing_config(in_other_folder):
    """No SSDLite config for the BN/Hardswish variant: an error naming the
    file, before anything is timed."""
    with pytest.raises(SystemExit) as exit_:
        run_in_process('benchmark_deploy.py', '--archs', 'xx_small_bn_hs',
                       '--models', 'classifier', 'detector')
    assert str(exit_.value.code) == (
        'error: no config for 1 of the models asked for: '
        + cfg_path('ssdlite_edgenext_xx_small_bn_hs_coco.py'))
    assert exit_.value.stdout == ''
