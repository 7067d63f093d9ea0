"""The deployment tools as users run them (``python tools/X.py``: the first
run of each in a subprocess, the others in this process, sparing the
interpreter's start-up), each held to what it promises, on tiny inputs:

- export_onnx.py: the graphs of a classifier, the mmdet SSDLite detector
  (``--simplify``) and a segmentor give what mmpretrain's, mmdet's and
  mmseg's own models predict (ml-cvnets' SSD and DeepLabv3 and EdgeFormer:
  test_edgeformer_deploy.py);
- quantize_onnx.py, ONNX Runtime and OpenVINO: the int8 graph runs int8
  kernels (its ``--profile``), and with ``--eval-set`` the float graphs of
  a trained segmentor (free height and width: its test pipeline keeps each
  image's size) and of a trained SSDLite detector score what the PyTorch
  models score, int8 within the stated drop of both; a graph that is not
  the trained model, or int8 beyond the drop, exits with status 3; it times
  fp32 and int8 in both runtimes and names the fastest to ship; by
  default it makes both runtimes' int8 and keeps the faster one;
- the benchmarks: test_benchmark_tools.py.
"""
import math
import os
import re

import mmcv
import numpy as np
import onnx
import pytest
import torch
from helpers import (assert_same_detections, cfg_path, optimized_op_types,
                     randomize_, run_in_process, run_tool)
from PIL import Image

from mmedgenext.apis import build_model, load_config
from mmedgenext.deploy import load_runtime
from mmedgenext.deploy.evaluation import MAX_FLOAT_DIFF
from mmedgenext.deploy.quantize import MAX_DROP

pytestmark = pytest.mark.slow

CLS = cfg_path('edgenext_xx_small_in1k.py')
DET = cfg_path('ssdlite_edgenext_xx_small_coco.py')
SEG = cfg_path('deeplabv3_edgenext_xx_small_synthetic.py')
# Few enough detections of the randomized detector at 128 px to leave
# padding rows (79 of max_per_img=200), and many below the threshold.
DET_OPTIONS = {'model.test_cfg.score_thr': 0.1}


def _ok(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _random_checkpoint(config, path):
    """``config``'s model with randomize_'s weights, saved as mmengine
    saves a checkpoint (no ties among detection scores)."""
    model = randomize_(build_model(load_config(config)))
    torch.save({'state_dict': model.state_dict()}, path)
    return str(path)


def _seeded_images(batch, size, seed):
    """Float BGR 0-255 images of ``size`` (H, W), what the exported graphs
    take."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, *size, generator=g).mul(255).round()


@pytest.fixture(scope='module')
def classifier_onnx(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('cls')
    checkpoint = _random_checkpoint(CLS, tmp / 'cls.pth')
    path = str(tmp / 'cls.onnx')
    stdout = _ok(run_tool('tools/export_onnx.py', CLS, checkpoint, '--out',
                          path, '--shape', 64, 96, '--dynamic-batch'))
    return checkpoint, path, stdout


def test_export_classifier_gives_mmpretrain_logits(classifier_onnx):
    """At batch 3 through the --dynamic-batch graph (the tool checked
    batch 2), on a non-square input: mmpretrain's logits (its data
    preprocessor, backbone, head) within 1e-4 of their range, and the
    labels its predict gives."""
    from mmpretrain.apis import get_model
    checkpoint, path, stdout = classifier_onnx
    assert (f'{path}: classifier, image (B, 3, 64, 96) -> logits, opset 17'
            in stdout)
    assert "graph form: onnxruntime's (its LayerNorms" in stdout
    assert ('ONNX Runtime vs PyTorch (2 noise images): max |logits diff|'
            in stdout)
    model = get_model(CLS, pretrained=checkpoint).eval()
    img = _seeded_images(3, (64, 96), seed=1)
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=list(img)), False)
        reference = model(data['inputs'], mode='tensor').numpy()
        labels = [int(s.pred_label) for s in model.test_step(
            dict(inputs=list(img)))]
    logits = load_runtime(path)(img)['logits']
    assert logits.shape == (3, 1000)
    np.testing.assert_allclose(logits, reference, rtol=0,
                               atol=1e-4 * np.ptp(reference))
    assert logits.argmax(1).tolist() == labels
    # the plain export keeps the exporter's constants (cf. --simplify)
    assert any(n.op_type == 'Constant' for n in onnx.load(path).graph.node)


@pytest.fixture(scope='module')
def detector_onnx(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('det')
    checkpoint = _random_checkpoint(DET, tmp / 'det.pth')
    path = str(tmp / 'det.onnx')
    stdout = run_in_process(
        'export_onnx.py', DET, checkpoint, '--out', path, '--shape', 128,
        '--dynamic-batch', '--simplify', '--cfg-options',
        *(f'{k}={v}' for k, v in DET_OPTIONS.items()))
    return checkpoint, path, stdout


def test_export_detector_simplified_gives_mmdet_detections(detector_onnx):
    """The --simplify (onnxslim) graph at batch 2, boxes/scores/labels by
    name: per image and class the detections of mmdet's SSDHead.predict
    (its test_cfg, its NMS) as sets, scores within 1e-5, boxes within 1e-4
    of the side; then padding rows (label -1, score 0); rows by falling
    score."""
    from mmdet.apis import init_detector
    from mmdet.structures import DetDataSample
    checkpoint, path, stdout = detector_onnx
    assert (f'{path}: detector, image (B, 3, 128, 128) -> boxes, scores, '
            'labels, opset 17' in stdout)
    assert re.search(r'\(2 noise images\): \d+ detections, all matched',
                     stdout)
    model = init_detector(DET, checkpoint, device='cpu',
                          cfg_options=DET_OPTIONS)
    img = _seeded_images(2, (128, 128), seed=2)
    meta = dict(img_shape=(128, 128), ori_shape=(128, 128),
                scale_factor=(1., 1.))
    with torch.no_grad():
        refs = [r.pred_instances for r in model.test_step(dict(
            inputs=list(img),
            data_samples=[DetDataSample(metainfo=meta) for _ in img]))]
    outputs = load_runtime(path)(img)
    for b, ref in enumerate(refs):
        out = {k: v[b] for k, v in outputs.items()}
        n = len(ref)
        assert 20 < n < len(out['labels'])  # NMS has work; padding follows
        assert (out['labels'][n:] == -1).all()
        assert (out['scores'][n:] == 0).all()
        assert (np.diff(out['scores'][:n]) <= 0).all()
        assert_same_detections(
            tuple(torch.from_numpy(out[k][:n])
                  for k in ('boxes', 'scores', 'labels')),
            (ref.bboxes, ref.scores, ref.labels), box_tol=128 * 1e-4)
    # onnxslim ran: the exporter's Constant nodes became initializers
    assert not any(n.op_type == 'Constant'
                   for n in onnx.load(path).graph.node)


def test_export_stock_mmdet_ssdlite_mobilenet_v2(tmp_path):
    """mmdet's own SSDLite-MobileNetV2 config, as it is (the detectors'
    reference point): its graph gives mmdet's detections, and the tool says
    it worked around mmdet 3.3.0's SSDHead bug to run mmdet's predict."""
    import mmdet
    config = os.path.join(os.path.dirname(mmdet.__file__), '.mim', 'configs',
                          'ssd', 'ssdlite_mobilenetv2-scratch_8xb24-600e_'
                          'coco.py')
    checkpoint = _random_checkpoint(config, tmp_path / 'ssd.pth')
    stdout = run_in_process(
        'export_onnx.py', config, checkpoint, '--out', tmp_path / 'ssd.onnx',
        '--shape', 128, '--cfg-options', 'model.test_cfg.score_thr=0.1')
    assert ("worked around mmdet's SSDHead bug: SSDHead has no loss_cls"
            in stdout)
    assert re.search(r'\(1 noise image\): [1-9]\d* detections, all '
                     'matched', stdout)


@pytest.fixture(scope='module')
def segmentor(trained_segmentor, tmp_path_factory):
    """helpers.segmentor_recipe's trained DeepLabv3 (BN/Hardswish; mIoU
    about 85 on its four 64-px images, test_learning.py) exported by the
    tool as a user would, without --shape: the dumped config, its
    checkpoint, the ONNX file (label maps), the tool's output and the image
    folder."""
    config, checkpoint = (trained_segmentor[k]
                          for k in ('config', 'checkpoint'))
    path = str(tmp_path_factory.mktemp('seg') / 'seg.onnx')
    stdout = run_in_process('export_onnx.py', config, checkpoint, '--out',
                            path)
    return (config, checkpoint, path, stdout,
            trained_segmentor['root'] + '/JPEGImages')


def _images(folder):
    """The folder's images as the segmentation test pipeline gives them
    (BGR, unresized), (1, 3, H, W) float each, sorted by name."""
    from pathlib import Path
    return [mmcv.imread(str(p)).transpose(2, 0, 1)[None].astype(np.float32)
            for p in sorted(Path(folder).glob('*.jpg'))]


def test_export_segmentor_gives_mmseg_label_maps(segmentor):
    """The test pipeline keeps each image's size, so the graph takes any
    (the tool checked it at the traced 64x64, the data preprocessor's size,
    and at 48x80). On the trained model's images, and on one of them
    resized to 48x80 and to 80x112: mmseg's predicted label map (its
    encode_decode and argmax) at every pixel where its two best logits are
    more than 1e-4 of their range apart."""
    from mmseg.apis import init_model
    from mmseg.structures import SegDataSample
    config, checkpoint, path, stdout, images = segmentor
    assert (f'{path}: segmentor, image (1, 3, H, W) -> labels, opset 17'
            in stdout)
    assert ("input: height and width free (the test pipeline keeps each "
            "image's own size), traced at 64x64" in stdout)
    for size in ('64x64', '48x80'):
        assert re.search(rf'\(1 noise image at {size}\): label maps equal',
                         stdout)
    model = init_model(config, checkpoint, device='cpu')
    graph = load_runtime(path)
    assert graph.input_shape == [1, 3, None, None]
    images = _images(images)
    images += [mmcv.imresize(images[0][0].transpose(1, 2, 0), (w, h)
                             ).transpose(2, 0, 1)[None]
               for h, w in ((48, 80), (80, 112))]
    classes = set()
    for img in images:
        h, w = img.shape[2:]
        meta = dict(img_shape=(h, w), ori_shape=(h, w))
        with torch.no_grad():
            result = model.test_step(dict(
                inputs=list(torch.from_numpy(img)),
                data_samples=[SegDataSample(metainfo=meta)]))[0]
        labels = graph(img)['labels'][0]
        expected = result.pred_sem_seg.data[0].numpy()
        logits = np.sort(result.seg_logits.data.numpy(), axis=0)
        tie = logits[-1] - logits[-2] <= 1e-4 * np.ptp(logits)
        assert labels.shape == (h, w)
        assert ((labels == expected) | tie).all()
        classes.update(np.unique(expected).tolist())
    assert len(classes) >= 3  # label maps with something to get wrong


def _parse_quantize(stdout):
    """The figures quantize_onnx.py prints: the float-vs-int8 report, the
    test-set metrics (PyTorch, float, int8), the sizes, the profiles."""
    report = dict(re.findall(r'(\w+)=([-\d.e]+)', re.search(
        r'int8 vs float on (.*)', stdout).group(1)))
    metrics = {k: tuple(map(float, v)) for k, *v in re.findall(
        r'test set (\S+): PyTorch ([-\d.e]+), float ([-\d.e]+), int8 '
        r'([-\d.e]+)', stdout)}
    sizes = [float(v) for v in re.search(
        r'size ([\d.]+) MB -> ([\d.]+) MB', stdout).groups()]
    profiles = {}
    for runtime, name, total, nodes, body in re.findall(
            r'(ONNX Runtime|OpenVINO) profile, (float|int8): ([\d.]+) ms in '
            r'(\d+) nodes\n((?:  .*\n)*)', stdout):
        rows = re.findall(r'  (.+?)\s+(\d+) nodes\s+([\d.]+) ms\s+([\d.]+)%',
                          body)
        profiles[name] = dict(
            runtime=runtime, total=float(total), nodes=int(nodes),
            kinds={k: (int(c), float(ms), float(p)) for k, c, ms, p in rows})
    return report, metrics, sizes, profiles


def _within_rounding(ratio, num, den, half_step=0.005):
    """Whether ``ratio``, printed to 0.01, can be ``num / den`` of two times
    that were each printed to 0.01: the true times lie within half a step of
    the printed ones, so the ratio lies between the extreme quotients."""
    low = (num - half_step) / (den + half_step) - half_step
    high = (num + half_step) / (den - half_step) + half_step
    return low - 1e-9 <= ratio <= high + 1e-9


def _assert_latencies_lead_to_the_fastest(stdout, int8_in):
    """Both runtimes' fp32 rows, int8 in the runtimes ``int8_in`` that run
    the file (n/a in the other), the ratio of the printed times, a note for
    each int8 slower than its fp32, and 'ship' naming the fastest."""
    rows = re.findall(r'\| (onnxruntime|openvino) \| ([\d.]+) \| '
                      r'([\d.]+|n/a[^|]*) \| ([\d.]*) ?\|', stdout)
    assert [r[0] for r in rows] == ['onnxruntime', 'openvino']
    times = {}
    for runtime, fp32, int8, ratio in rows:
        times[runtime, 'fp32'] = float(fp32)
        if runtime not in int8_in:
            assert int8.startswith('n/a') and not ratio
            continue
        times[runtime, 'int8'] = float(int8)
        assert _within_rounding(float(ratio), float(int8), float(fp32))
        slower = f'note: int8 is slower than fp32 in {runtime} here'
        if float(int8) != float(fp32):  # a tie as printed can go either way
            assert (slower in stdout) == (float(int8) > float(fp32))
    ship = re.search(r'ship: (\w+) (\w+) \(([\d.]+) ms\)', stdout)
    assert ship and (ship[1], ship[2]) in times
    assert times[ship[1], ship[2]] == float(ship[3]) == min(times.values())


def _assert_profile_lists_every_kind(profile):
    """With K above the number of kinds, every kind is listed: node counts
    add up to the header's, times to its total, shares to 100%."""
    kinds = profile['kinds'].values()
    assert sum(c for c, _, _ in kinds) == profile['nodes']
    assert sum(ms for _, ms, _ in kinds) == pytest.approx(
        profile['total'], abs=0.05 + 0.005 * len(kinds))  # printed rounded
    assert sum(p for _, _, p in kinds) == pytest.approx(  # each rounded
        100, abs=0.05 * len(kinds) + 1e-9)
    assert all(c > 0 and ms >= 0 for c, ms, _ in kinds)


def _half_step(value):
    """Half the last digit of ``value`` printed with 4 significant ones."""
    return 0.5 * 10**(math.floor(math.log10(abs(value))) - 3) if value else 0


def _assert_scored_like_pytorch(trained, stdout, key, points, max_drop):
    """The tool's test-set figures: PyTorch's those of the trained model's
    val loop (the same images and evaluator), the float graph's equal to
    them as printed (it is the trained model), and the verdicts: the float
    graph within MAX_FLOAT_DIFF points, int8's drop from float and from
    PyTorch as the printed figures give it (``points`` per unit of the
    metric), within ``max_drop``."""
    _, metrics, _, _ = _parse_quantize(stdout)
    assert set(metrics) == set(trained['metrics']) - {'data_time', 'time'}
    for name, (pytorch, float_value, _) in metrics.items():
        assert pytorch == float(f'{trained["metrics"][name]:.4g}'), name
        assert float_value == pytorch, name
    assert (f'float graph vs PyTorch: {key} differs by 0.00 points (limit '
            f'{MAX_FLOAT_DIFF:g}): ok') in stdout
    pytorch, float_value, int8 = metrics[key]
    verdict = re.search(
        rf'int8 quality: {key} drop ([-\d.]+) points from float, ([-\d.]+) '
        rf'from PyTorch \(limit ([\d.]+)\): ok', stdout)
    for printed, reference in zip(verdict.groups(), (float_value, pytorch)):
        # the figures are printed to 4 digits, the drops to 0.01
        rounding = (_half_step(reference) + _half_step(int8)) * points
        assert float(printed) == pytest.approx(
            (reference - int8) * points, abs=rounding + 0.005 + 1e-9)
        assert float(printed) <= max_drop
    assert float(verdict.group(3)) == max_drop


def _assert_int8_within_the_drop(trained, stdout):
    """A model that segments (int8 could lose much), scored as PyTorch by
    the float graph, int8 at most MAX_DROP points of mIoU below."""
    assert _parse_quantize(stdout)[1]['mIoU'][0] > 50
    _assert_scored_like_pytorch(trained, stdout, 'mIoU', 1, MAX_DROP)


@pytest.fixture(scope='module')
def onnxruntime_int8(segmentor):
    config, checkpoint, path, _, images = segmentor
    out = path.replace('.onnx', '_int8.onnx')
    stdout = _ok(run_tool(
        'tools/quantize_onnx.py', config, path, '--calib-dir', images,
        '--runtime', 'onnxruntime', '--eval-set', '--checkpoint',
        checkpoint, '--profile', 100,
        '--threads', 1, '--out', out))
    return out, stdout


def test_quantize_onnxruntime_keeps_the_miou(trained_segmentor,
                                             onnxruntime_int8):
    _assert_int8_within_the_drop(trained_segmentor, onnxruntime_int8[1])


def test_quantize_onnxruntime_runs_int8_kernels(segmentor, onnxruntime_int8,
                                                tmp_path):
    """--profile: every convolution and matrix product of the int8 graph
    runs as ONNX Runtime's QLinear kernel (none left in float; the float
    graph has no int8 one), the kinds split and counted as in ONNX
    Runtime's optimized graph; int8 weights take less than half the file.
    """
    path = segmentor[2]
    int8, stdout = onnxruntime_int8
    _assert_latencies_lead_to_the_fastest(stdout, ('onnxruntime',
                                                   'openvino'))
    _, _, sizes, profiles = _parse_quantize(stdout)
    assert sizes[1] < sizes[0] / 2
    assert {p['runtime'] for p in profiles.values()} == {'ONNX Runtime'}
    float_kinds = profiles['float']['kinds']
    int8_kinds = profiles['int8']['kinds']
    for profile in profiles.values():
        _assert_profile_lists_every_kind(profile)
    assert {'Conv 1x1', 'Conv depthwise', 'Conv'} <= set(float_kinds)
    assert not any(k.startswith('QLinear') for k in float_kinds)
    assert {'QLinearConv 1x1', 'QLinearConv depthwise', 'QLinearConv',
            'QLinearMatMul'} <= set(int8_kinds)
    float_ops = ('Conv', 'FusedConv', 'MatMul', 'FusedMatMul', 'Gemm')
    assert not [k for k in int8_kinds if k.split()[0] in float_ops]
    for graph, kinds in ((path, float_kinds), (int8, int8_kinds)):
        optimized = optimized_op_types(graph, tmp_path)
        for op in ('Conv', 'QLinearConv', 'QLinearMatMul'):
            listed = sum(c for k, (c, _, _) in kinds.items()
                         if k.split()[0] == op)
            assert listed == optimized[op], op


def test_quantize_reports_int8_against_float(segmentor, onnxruntime_int8):
    """The report's pixel agreement and mIoU of int8 against the float
    label maps (on the calibration images, the default), recomputed from
    both graphs' outputs with mmseg's IoUMetric areas."""
    from mmseg.evaluation import IoUMetric
    path, images = segmentor[2], segmentor[4]
    int8, stdout = onnxruntime_int8
    report, _, _, _ = _parse_quantize(stdout)
    f, q = (torch.from_numpy(np.concatenate([
        load_runtime(p)(img)['labels'] for img in _images(images)]))
        for p in (path, int8))
    areas = np.sum([[a.numpy() for a in IoUMetric.intersect_and_union(
        q[i], f[i], 4, 255)[:2]] for i in range(len(f))], axis=0)
    with np.errstate(invalid='ignore'):
        miou = np.nanmean(areas[0] / areas[1])
    assert int(report['images']) == len(f) == 4
    assert float(report['pixel_agreement']) == pytest.approx(
        float((f == q).float().mean()), abs=1e-4)
    assert float(report['miou_vs_float']) == pytest.approx(miou, abs=1e-4)


def test_quantize_openvino_keeps_the_miou_in_int8_kernels(
        segmentor, trained_segmentor, tmp_path):
    """NNCF's IR in OpenVINO (free height and width, compiled for each
    image's shape): the mIoU within the drop, and --profile shows every
    convolution of the float graph running as an OpenVINO int8 (I8 or U8)
    kernel in the IR, none in the float graph."""
    config, checkpoint, path, _, images = segmentor
    out = tmp_path / 'seg_int8.xml'
    stdout = run_in_process(
        'quantize_onnx.py', config, path, '--runtime', 'openvino',
        '--calib-dir', images, '--eval-set', '--checkpoint', checkpoint,
        '--profile', 100, '--threads', 1, '--out', out)
    assert out.is_file() and out.with_suffix('.bin').is_file()
    _assert_int8_within_the_drop(trained_segmentor, stdout)
    _assert_latencies_lead_to_the_fastest(stdout, ('openvino', ))
    _, _, sizes, profiles = _parse_quantize(stdout)
    assert sizes[1] < sizes[0] / 2
    assert {p['runtime'] for p in profiles.values()} == {'OpenVINO'}
    for profile in profiles.values():
        _assert_profile_lists_every_kind(profile)

    def convolutions(kinds, precisions):
        return sum(c for k, (c, _, _) in kinds.items()
                   if k.split()[0] == 'Convolution' and
                   k.split()[1] in precisions)
    float_kinds = profiles['float']['kinds']
    int8_kinds = profiles['int8']['kinds']
    assert convolutions(float_kinds, {'F32'}) >= 40
    assert not any(k.split()[1] in ('I8', 'U8') for k in float_kinds)
    assert convolutions(int8_kinds, {'I8', 'U8'}) == convolutions(
        float_kinds, {'F32'})


def test_quantize_keeps_the_int8_that_runs_faster_here(segmentor, tmp_path):
    """Without --runtime both int8 graphs are made and timed beside fp32
    in both runtimes; the one whose int8 ran faster is kept at --out with
    its runtime's suffix (the other is not left behind), and 'ship' names
    the fastest of all four."""
    config, _, path, _, images = segmentor
    stdout = run_in_process('quantize_onnx.py', config, path, '--calib-dir',
                            images, '--threads', 1, '--out',
                            tmp_path / 'seg_int8.onnx')
    _assert_latencies_lead_to_the_fastest(stdout, ('onnxruntime',
                                                   'openvino'))
    int8 = {r: float(ms) for r, ms in re.findall(
        r'\| (onnxruntime|openvino) \| [\d.]+ \| ([\d.]+) \|', stdout)}
    kept = re.search(r'int8 for (\w+) \(', stdout)[1]
    assert int8[kept] == min(int8.values())  # a tie as printed: either
    out = tmp_path / ('seg_int8.onnx' if kept == 'onnxruntime' else
                      'seg_int8.xml')
    assert f'{out}: int8 for {kept} (' in stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [out.name] + (['seg_int8.bin'] if kept == 'openvino' else []))


def test_quantize_takes_onnxruntime_options_with_its_runtime(segmentor):
    """ONNX Runtime's quantizer options without --runtime (both runtimes'
    int8 made): a clear error before any work, naming the flag to add."""
    config, _, path, _, images = segmentor
    with pytest.raises(SystemExit) as exit_:
        run_in_process('quantize_onnx.py', config, path, '--calib-dir',
                       images, '--method', 'entropy')
    assert str(exit_.value.code) == (
        "error: --method, --per-tensor and --op-types are options of ONNX "
        "Runtime's quantizer: give --runtime onnxruntime with them")


def test_quantize_exits_3_when_float_or_int8_is_off(segmentor, tmp_path,
                                                    capsys):
    """A graph exported at --shape 96 (the tool says the test images get
    resized to it) scores another mIoU than the PyTorch model on the test
    pipeline's 64-px images; calibrated on black images, int8 saturates on
    the real ones and loses far more than allowed. Both verdicts say so,
    each with an error line giving the figures, and the tool exits with
    status 3 (run in this process: the failure paths of the code the
    subprocess runs above)."""
    config, checkpoint, _, _, _ = segmentor
    path = tmp_path / 'seg96.onnx'
    stdout = run_in_process('export_onnx.py', config, checkpoint, '--out',
                            path, '--shape', 96)
    assert ('input: 96x96 (--shape); note: the test pipeline gives each '
            'image at its own size, which the graph\'s users (evaluation, '
            'quantize_onnx.py) resize to 96x96' in stdout)
    black = tmp_path / 'black'
    black.mkdir()
    for i in range(2):
        Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(
            black / f'{i}.png')
    with pytest.raises(SystemExit) as exit_:
        run_in_process('quantize_onnx.py', config, path, '--calib-dir', black,
                       '--eval-set', '--checkpoint', checkpoint,
                       '--threads', 1, '--out', tmp_path / 'bad_int8.onnx')
    assert exit_.value.code == 3
    out, err = exit_.value.stdout, capsys.readouterr().err
    pytorch, float_miou, int8_miou = _parse_quantize(out)[1]['mIoU']
    assert abs(pytorch - float_miou) > 10 * MAX_FLOAT_DIFF
    assert float_miou - int8_miou > 5 * MAX_DROP
    assert re.search(r'float graph vs PyTorch: mIoU differs by [\d.]+ '
                     rf'points \(limit {MAX_FLOAT_DIFF:g}\): DIFFERENT', out)
    assert re.search(r'int8 quality: mIoU drop [\d.]+ points from float, '
                     rf'[-\d.]+ from PyTorch \(limit {MAX_DROP:g}\): TOO LOW',
                     out)
    assert (f'error: the float graph scores mIoU {float_miou:.4g}, the '
            f'PyTorch model {pytorch:.4g}' in err)
    assert 'error: int8 loses' in err


def test_quantize_eval_set_needs_the_checkpoint(segmentor, tmp_path):
    """Without the trained model there is nothing to hold the float graph
    to: an error saying what to give, before any quantizing."""
    config, _, path, _, images = segmentor
    with pytest.raises(SystemExit) as exit_:
        run_in_process('quantize_onnx.py', config, path, '--calib-dir',
                       images, '--eval-set', '--out', tmp_path / 'q.onnx')
    assert exit_.value.code == ('error: --eval-set scores the PyTorch model '
                                'too, and holds the float graph to it: give '
                                'the checkpoint the graph was exported from '
                                '(--checkpoint)')
    assert not (tmp_path / 'q.onnx').exists()


@pytest.fixture(scope='module')
def detector_trained_onnx(trained_detector, tmp_path_factory):
    """helpers.detector_recipe's trained SSDLite exported by the tool as a
    user would, without --shape."""
    path = str(tmp_path_factory.mktemp('det_trained') / 'det.onnx')
    stdout = run_in_process('export_onnx.py', trained_detector['config'],
                            trained_detector['checkpoint'], '--out', path)
    return path, stdout


@pytest.mark.parametrize('runtime', ['onnxruntime', 'openvino'])
def test_quantize_trained_detector_scores_like_pytorch(
        trained_detector, detector_trained_onnx, runtime, tmp_path):
    """The graph takes the test pipeline's 128x128 (its Resize), and with
    --eval-set the float graph's COCO metrics are the PyTorch model's; the
    int8 drops from both are reported (a detector trained on four images
    is not held to the int8 target: --max-drop 100)."""
    path, export_stdout = detector_trained_onnx
    assert (f'{path}: detector, image (1, 3, 128, 128) -> boxes, scores, '
            'labels, opset 17' in export_stdout)
    assert "input: 128x128 (the test pipeline's Resize)" in export_stdout
    out = tmp_path / ('det_int8.onnx' if runtime == 'onnxruntime' else
                      'det_int8.xml')
    stdout = run_in_process(
        'quantize_onnx.py', trained_detector['config'], path, '--runtime',
        runtime, '--calib-dir', trained_detector['root'] + '/train',
        '--eval-set', '--checkpoint', trained_detector['checkpoint'],
        '--max-drop', 100, '--threads', 1, '--out', out)
    assert _parse_quantize(stdout)[1]['coco/bbox_mAP'][0] >= 0.5
    _assert_scored_like_pytorch(trained_detector, stdout, 'coco/bbox_mAP',
                                100, 100)
