"""ONNX export of the EdgeFormer-S classifier, the ml-cvnets SSDLite end to
end (decoding and per-class NMS in the graph) and the ml-cvnets DeepLabv3:
ONNX Runtime against the OpenMMLab models' own predictions and against what
the authors' own models computed (tests/fixtures/edgeformer_reference) on
the same seeded weights, saved as their models save them."""
import numpy as np
import pytest
import torch
from helpers import (assert_same_detections, authors_state_dict, cfg_path,
                     edgeformer_reference)

from mmedgenext.apis import build_model, load_config
from mmedgenext.deploy import (deploy_graph, export_onnx, load_runtime,
                               verify_onnx)

# Each exports and runs a graph for seconds (make test-fast skips them).
pytestmark = pytest.mark.slow


def _authors_file(tmp_path, task):
    """What the authors' ``task`` model computed, and its weights in a
    file as their ``state_dict()`` saves them."""
    reference = edgeformer_reference(task)
    path = str(tmp_path / 'checkpoint_ema_avg.pt')
    torch.save(authors_state_dict(reference), path)
    return reference, path


def _graph_input(images):
    """uint8 BGR (N, H, W, 3) images as the graphs take them."""
    return images.permute(0, 3, 1, 2).float()


def _export(config, checkpoint, tmp_path, size, **kwargs):
    cfg = load_config(cfg_path(config))
    model = build_model(cfg, checkpoint)
    path = str(tmp_path / 'model.onnx')
    export_onnx(deploy_graph(cfg, model, size, **kwargs), path, size,
                dynamic_batch=kwargs.get('seg_output') is None)
    return cfg, model, path


def assert_close_to_range(out, ref):
    assert np.abs(out - ref).max() <= 1e-4 * (ref.max() - ref.min())


def test_classifier(tmp_path):
    reference, ckpt = _authors_file(tmp_path, 'classification')
    cfg, model, path = _export('edgeformer_s_in1k.py', ckpt, tmp_path,
                               (128, 128))
    img = _graph_input(reference['images_128'])
    assert verify_onnx(cfg, model, path, (128, 128), img=img).startswith(
        'max |logits diff|')
    logits = load_runtime(path)(img)['logits']
    assert_close_to_range(logits, reference['logits_128'].numpy())


def test_ssd_end_to_end(tmp_path):
    """The graph's detections are mmdet's predict result and the authors'
    ``predict`` (confidence 0.05, 200 per class); padding rows after
    them. The batch's second image (the first, mirrored) shows that the
    images' detections stay apart."""
    reference, ckpt = _authors_file(tmp_path, 'detection')
    cfg, model, path = _export('ssdlite_edgeformer_s_coco.py', ckpt,
                               tmp_path, (320, 320))
    first = _graph_input(reference['resized'][None])
    img = torch.cat([first, first.flip(-1)])
    assert 'all matched' in verify_onnx(cfg, model, path, (320, 320),
                                        img=img)
    out = load_runtime(path)(img)
    assert out['labels'].shape == (2, 80 * 200)
    for b in range(2):
        n = int((out['labels'][b] >= 0).sum())
        assert (out['labels'][b, n:] == -1).all()
        assert (out['scores'][b, n:] == 0).all()
    theirs = reference['predict']
    n = int((out['labels'][0] >= 0).sum())
    assert n == len(theirs['labels'])
    assert_same_detections(
        tuple(torch.from_numpy(out[k][0, :n])
              for k in ('boxes', 'scores', 'labels')),
        ((theirs['boxes'] * 320).clamp(0, 320), theirs['scores'],
         theirs['labels'] - 1))


def test_deeplabv3(tmp_path):
    reference, ckpt = _authors_file(tmp_path, 'segmentation')
    cfg, model, path = _export('deeplabv3_edgeformer_s_voc12aug.py', ckpt,
                               tmp_path, (256, 256), seg_output='logits')
    img = _graph_input(reference['image'])
    assert verify_onnx(cfg, model, path, (256, 256), img=img).startswith(
        'max |logits diff|')
    logits = load_runtime(path)(img)['logits']
    assert_close_to_range(logits[0, :, ::4, ::4],
                          reference['logits_every_4th'].numpy())
