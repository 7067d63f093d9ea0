"""ONNX export of the EdgeFormer-S classifier, the ml-cvnets SSDLite end to
end (decoding and per-class NMS in the graph) and the ml-cvnets DeepLabv3:
ONNX Runtime against the OpenMMLab models' own predictions and against the
functional reference, on random weights in the released layout, at small
square inputs."""
import numpy as np
import pytest
import reference_edgeformer as R
import torch
from helpers import assert_same_detections, cfg_path

from mmedgenext.apis import build_model, load_config
from mmedgenext.deploy import (deploy_graph, export_onnx, noise_images,
                               onnx_session, run_onnx, task_for, verify_onnx)

# Each exports and runs a graph for seconds (make test-fast skips them).
pytestmark = pytest.mark.slow


def _released(tmp_path, forward, seed, residual_prefix=None):
    """Random weights created by a reference forward, saved as released."""
    W = R.Weights(seed=seed)
    forward(W, torch.rand(1, 3, 64, 64))
    sd = dict(W.sd) if residual_prefix is None else R.add_residual_copies(
        dict(W.sd), residual_prefix)
    path = str(tmp_path / 'checkpoint_ema_avg.pt')
    torch.save(sd, path)
    return W, path


def _export(config, checkpoint, tmp_path, size, **kwargs):
    cfg = load_config(cfg_path(config))
    for key, value in kwargs.pop('test_cfg', {}).items():
        cfg.model.test_cfg[key] = value
    model = build_model(cfg, checkpoint)
    path = str(tmp_path / 'model.onnx')
    export_onnx(deploy_graph(cfg, model, size, **kwargs), path, size,
                dynamic_batch=kwargs.get('seg_output') is None)
    return cfg, model, path


def test_classifier(tmp_path):
    W, ckpt = _released(tmp_path, R.classifier, seed=0, residual_prefix='')
    cfg, model, path = _export('edgeformer_s_in1k.py', ckpt, tmp_path,
                               (64, 64))
    assert verify_onnx(cfg, model, path, (64, 64), batch=2).startswith(
        'max |logits diff|')
    img = noise_images(2, (64, 64))
    logits = run_onnx(onnx_session(path), img)['logits']
    with torch.no_grad():
        ref = R.classifier(W, img / 255).numpy()
    assert np.abs(logits - ref).max() <= 1e-4 * (ref.max() - ref.min())


def test_ssd_end_to_end(tmp_path):
    """The graph's detections are mmdet's predict result and the
    reference's ml-cvnets post-processing; padding rows after them."""
    W, ckpt = _released(tmp_path, R.ssd_forward, seed=3,
                        residual_prefix='encoder.')
    cfg, model, path = _export('ssdlite_edgeformer_s_coco.py', ckpt,
                               tmp_path, (128, 128),
                               test_cfg=dict(score_thr=0.03))
    img = noise_images(2, (128, 128))
    reference = task_for(cfg, model).reference(model, img)
    assert all(len(r['labels']) > 20 for r in reference)  # NMS has work
    assert 'all matched' in verify_onnx(cfg, model, path, (128, 128),
                                        batch=2)
    out = run_onnx(onnx_session(path), img)
    assert out['labels'].shape == (2, 80 * 200)
    for b in range(2):
        n = int((out['labels'][b] >= 0).sum())
        assert (out['labels'][b, n:] == -1).all()
        assert (out['scores'][b, n:] == 0).all()
        with torch.no_grad():
            boxes, scores, labels = R.ssd_predict(
                W, img[b:b + 1] / 255, conf_threshold=0.03)
        assert_same_detections(
            tuple(torch.from_numpy(out[k][b, :n])
                  for k in ('boxes', 'scores', 'labels')),
            ((boxes * 128).clamp(0, 128), scores, labels - 1),
            box_tol=128 * 1e-4)


def test_deeplabv3(tmp_path):
    W, ckpt = _released(tmp_path, R.deeplabv3, seed=5)
    cfg, model, path = _export('deeplabv3_edgeformer_s_voc12aug.py', ckpt,
                               tmp_path, (64, 64), seg_output='logits')
    assert verify_onnx(cfg, model, path, (64, 64)).startswith(
        'max |logits diff|')
    img = noise_images(1, (64, 64))
    logits = run_onnx(onnx_session(path), img)['logits']
    with torch.no_grad():
        ref = R.deeplabv3(W, img / 255).numpy()
    assert np.abs(logits - ref).max() <= 1e-4 * (ref.max() - ref.min())
