"""ONNX export (classifier, SSDLite detector, DeepLabv3 segmentor), the
check of ONNX Runtime against the OpenMMLab models' own predictions, and
int8 quantization, at small inputs with random weights."""
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
from conftest import randomize_
from PIL import Image

from mmedgenext.deploy import (OnnxMismatchError, build_model, deploy_graph,
                               export_onnx, load_config, noise_images,
                               onnx_session, pipeline_images,
                               reference_outputs, run_onnx, verify_onnx)
from mmedgenext.datasets.synthetic import write_segmentation_set
from mmedgenext.deploy.quantize import (compare_float_int8, evaluate_onnx,
                                        quantize_onnx)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLS = os.path.join(ROOT, 'configs/edgenext_xx_small_in1k.py')
DET = os.path.join(ROOT, 'configs/ssdlite_edgenext_xx_small_coco.py')
SEG = os.path.join(ROOT, 'configs/deeplabv3_edgenext_xx_small_voc12aug.py')


def _export(config, tmp_path, size, name, dynamic_batch=True, **kwargs):
    """A randomized model of ``config`` and its ONNX file."""
    cfg = load_config(config)
    model = randomize_(build_model(cfg))
    path = str(tmp_path / name)
    export_onnx(deploy_graph(cfg, model, size, **kwargs), path, size,
                dynamic_batch=dynamic_batch)
    return cfg, model, path


@pytest.fixture(scope='module')
def classifier(tmp_path_factory):
    return _export(CLS, tmp_path_factory.mktemp('cls'), (128, 128),
                   'cls.onnx')


def test_classifier_matches_pytorch(classifier):
    cfg, model, path = classifier
    report = verify_onnx(cfg, model, path, (128, 128), batch=2)
    assert report.startswith('max |logits diff|')


def test_detector_returns_mmdet_detections(tmp_path):
    """Box decoding, score filtering and per-class NMS in the graph give
    mmdet's SSDHead.predict result: the same boxes, scores within 1e-4."""
    cfg, model, path = _export(DET, tmp_path, (160, 160), 'det.onnx')
    img = noise_images(2, (160, 160))
    reference = reference_outputs(cfg, model, img)
    assert all(len(r['labels']) > 20 for r in reference)  # NMS has work
    report = verify_onnx(cfg, model, path, (160, 160), batch=2, atol=1e-4)
    assert 'all matched' in report
    # Padding rows after each image's detections.
    outputs = run_onnx(onnx_session(path), img)
    n = len(reference[0]['labels'])
    assert (outputs['labels'][0, n:] == -1).all()
    assert (outputs['scores'][0, n:] == 0).all()
    np.testing.assert_allclose(outputs['scores'][0, :n],
                               reference[0]['scores'], atol=1e-4)


def test_segmentor_matches_pytorch(tmp_path):
    cfg, model, path = _export(SEG, tmp_path, (128, 160), 'seg.onnx',
                               dynamic_batch=False)
    report = verify_onnx(cfg, model, path, (128, 160))
    assert report.startswith('label maps equal')
    labels = run_onnx(onnx_session(path), noise_images(1, (128, 160)))
    assert labels['labels'].shape == (1, 128, 160)


def test_a_corrupted_graph_is_reported(classifier, tmp_path):
    cfg, model, path = classifier
    graph = onnx.load(path)
    weight = max(graph.graph.initializer, key=lambda t: np.prod(t.dims))
    values = onnx.numpy_helper.to_array(weight) * 1.5
    weight.CopyFrom(onnx.numpy_helper.from_array(values, weight.name))
    broken = str(tmp_path / 'broken.onnx')
    onnx.save(graph, broken)
    with pytest.raises(OnnxMismatchError, match='logits differ by up to'):
        verify_onnx(cfg, model, broken, (128, 128))
    with pytest.raises(OnnxMismatchError, match='tolerance 0'):
        verify_onnx(cfg, model, path, (128, 128), atol=0)


def test_quantized_classifier_runs(classifier, tmp_path):
    cfg, _, path = classifier
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (150, 180, 3), np.uint8)).save(
            tmp_path / f'{i}.png')
    images = list(pipeline_images(cfg, tmp_path, (128, 128)))
    assert len(images) == 4 and images[0].shape == (1, 3, 128, 128)
    int8 = quantize_onnx(path, tmp_path / 'cls_int8.onnx', images)
    ops = {n.op_type for n in onnx.load(int8).graph.node}
    assert 'QuantizeLinear' in ops and 'DequantizeLinear' in ops
    report = compare_float_int8(cfg, path, int8, images)
    assert report['images'] == 4 and 0 <= report['top1_agreement'] <= 1
    assert np.isfinite(report['mean_abs_diff'])


def test_int8_segmentor_scored_with_the_config_metric(tmp_path):
    """--eval-set: the config's IoUMetric on its test set, for the float
    and the int8 graph."""
    root = str(tmp_path / 'voc')
    write_segmentation_set(root, num_train=4, num_val=3, size=96)
    cfg = load_config(SEG, {'test_dataloader.dataset.data_root': root})
    model = randomize_(build_model(cfg))
    path = str(tmp_path / 'seg.onnx')
    export_onnx(deploy_graph(cfg, model, (128, 128)), path, (128, 128))
    images = list(pipeline_images(cfg, root + '/JPEGImages', (128, 128)))
    int8 = quantize_onnx(path, tmp_path / 'seg_int8.onnx', images)
    for graph in (path, int8):
        metrics = evaluate_onnx(cfg, graph)
        assert 0 <= metrics['mIoU'] <= 100 and 0 <= metrics['aAcc'] <= 100
    report = compare_float_int8(cfg, path, int8, images[:2])
    assert 0 <= report['pixel_agreement'] <= 1


def test_unknown_config_kind(tmp_path):
    config = tmp_path / 'plain.py'
    config.write_text('model = dict(type="Foo")\n')
    with pytest.raises(ValueError, match='unknown config kind'):
        load_config(str(config))


def test_cli_reports_a_missing_checkpoint(tmp_path):
    result = subprocess.run([
        sys.executable, 'tools/export_onnx.py', CLS, 'missing.pth', '--out',
        str(tmp_path / 'x.onnx')
    ], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert 'error: ' in result.stderr and 'missing.pth' in result.stderr
    assert 'Traceback' not in result.stderr
