"""ONNX export (classifier, SSDLite detector, DeepLabv3 segmentor), the
check of ONNX Runtime against the OpenMMLab models' own predictions, the
NMS op, the deploy form, int8 quantization, OpenVINO, and the graphs scored
by the Runner with the configs' evaluators, at small inputs with random
weights."""
import collections

import numpy as np
import onnx
import pytest
import torch
from helpers import (cfg_path, cls_small_cfg, optimized_op_types,
                     overfit_schedule, randomize_, run_in_process)
from mmengine.config import Config
from PIL import Image

from mmedgenext.apis import build_model, input_shape, load_config
from mmedgenext.compat import torchscript_onnx_export_kwargs
from mmedgenext.deploy import (OnnxMismatchError, deploy_graph, deploy_task,
                               export_onnx, graph_input, load_runtime,
                               noise_images, non_max_suppression,
                               pipeline_images, size_from_test_pipeline,
                               switch_to_deploy, verify_onnx)
from mmedgenext.deploy.evaluation import evaluate_onnx, runner_metrics
from mmedgenext.deploy.quantize import compare_float_int8, quantize
from mmedgenext.deploy.tasks.base import Normalize
from mmedgenext.models import EdgeNeXt
from mmedgenext.models.layers import LayerNorm2d
from mmedgenext.tasks import task_for
from mmedgenext.synthetic_data import (write_classification_set,
                                       write_detection_set,
                                       write_segmentation_set)

CLS = cfg_path('edgenext_xx_small_in1k.py')
CLS_BN = cfg_path('edgenext_xx_small_bn_hs_in1k.py')
CLS_SYN = cfg_path('edgenext_xx_small_synthetic_cls.py')
DET = cfg_path('ssdlite_edgenext_xx_small_coco.py')
DET_SYN = cfg_path('ssdlite_edgenext_xx_small_synthetic.py')
SEG_SYN = cfg_path('deeplabv3_edgenext_xx_small_synthetic.py')


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


@pytest.mark.slow
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


@pytest.mark.slow
def test_quantized_classifier_runs(classifier, tmp_path):
    """The int8 graph (QDQ, one Gelu node per GELU) and the report on it,
    each figure recomputed from the logits both graphs give in ONNX
    Runtime."""
    cfg, _, path = classifier
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (150, 180, 3), np.uint8)).save(
            tmp_path / f'{i}.png')
    images = list(pipeline_images(cfg, tmp_path, (128, 128)))
    assert len(images) == 4 and images[0].shape == (1, 3, 128, 128)
    int8 = quantize(path, tmp_path / 'cls_int8.onnx', images)
    ops = collections.Counter(n.op_type for n in onnx.load(int8).graph.node)
    assert ops['QuantizeLinear'] and ops['DequantizeLinear']
    assert ops['Gelu'] == 12 and ops['Erf'] == 0  # one node per GELU
    report = compare_float_int8(cfg, path, int8, images)
    f, q = (np.concatenate([load_runtime(p)(img)['logits']
                            for img in images]) for p in (path, int8))
    diff = np.abs(f - q)
    assert diff.max() > 0  # int8 moved the logits: something to compare
    assert report == pytest.approx(dict(
        images=4, top1_agreement=(f.argmax(1) == q.argmax(1)).mean(),
        max_abs_diff=diff.max(), mean_abs_diff=diff.mean(),
        mean_diff_over_std=diff.mean() / f.std()), rel=1e-6)


def test_segmentor_int8_comparison():
    """SegmentorDeploy.compare_int8 against mmseg's IoUMetric areas with the
    float label maps as ground truth: a class only int8 predicts counts,
    with IoU 0."""
    from mmseg.evaluation import IoUMetric
    f = np.array([[[0, 0, 1, 1], [0, 0, 1, 1]]])
    q = np.array([[[0, 2, 1, 1], [0, 0, 1, 3]]])
    task = deploy_task(load_config(SEG_SYN))
    report = task.compare_int8([(dict(labels=f), dict(labels=q))])
    intersect, union = IoUMetric.intersect_and_union(
        torch.from_numpy(q[0]), torch.from_numpy(f[0]), 4, 255)[:2]
    assert report == pytest.approx(dict(
        images=1, pixel_agreement=6 / 8,
        miou_vs_float=float((intersect / union).mean())))


def _detections(*images, rows=4):
    """Graph outputs for images given as (box, score, label) lists, padded
    as the detector graph pads (label -1, score 0)."""
    out = dict(boxes=np.zeros((len(images), rows, 4), np.float32),
               scores=np.zeros((len(images), rows), np.float32),
               labels=np.full((len(images), rows), -1))
    for i, detections in enumerate(images):
        for j, (box, score, label) in enumerate(detections):
            out['boxes'][i, j], out['scores'][i, j] = box, score
            out['labels'][i, j] = label
    return out


def test_detector_int8_comparison():
    """DetectorDeploy.compare_int8 on detections worked out by hand: a float
    detection scoring >= 0.3 is recovered by an int8 one of its label
    overlapping it at IoU >= 0.5 (the best overlapping one gives the score
    difference); below 0.3 it is not counted."""
    task = deploy_task(load_config(DET))
    float_ = _detections([
        ([0, 0, 10, 10], .9, 1),     # int8: IoU 100/110, score .85
        ([20, 20, 40, 40], .6, 2),   # int8: same box, another label
        ([50, 50, 60, 60], .4, 0),   # int8: IoU 50/150 only
        ([0, 0, 10, 10], .2, 3),     # below 0.3: not counted
    ], [
        ([10, 10, 30, 30], .5, 0),   # int8: IoU 360/440 (.7), 400/600 (.1)
    ])
    int8 = _detections([
        ([0, 0, 10, 11], .85, 1),
        ([20, 20, 40, 40], .6, 1),
        ([55, 50, 65, 60], .4, 0),
    ], [
        ([10, 10, 30, 40], .1, 0),
        ([12, 10, 32, 30], .7, 0),
    ])
    report = task.compare_int8([(float_, int8)])
    assert report == pytest.approx(dict(
        images=2, float_detections=4, recovered=2 / 4, max_score_diff=.2,
        mean_score_diff=(.05 + .2) / 2))
    same = task.compare_int8([(float_, float_)])
    assert same['recovered'] == 1 and same['max_score_diff'] == 0


class _PackedNMS(torch.nn.Module):
    """non_max_suppression over boxes and scores packed in one input, as a
    session takes it: ``(B, 4 + C, N)``, box coordinates first."""

    def __init__(self, max_per_class, iou_thr, score_thr):
        super().__init__()
        self.args = max_per_class, iou_thr, score_thr

    def forward(self, packed):
        return non_max_suppression(packed[:, :4].transpose(1, 2),
                                   packed[:, 4:], *self.args)


def test_nms_in_pytorch_is_onnx_runtimes(tmp_path):
    """The NMS op's eager rows are ONNX Runtime's NonMaxSuppression rows,
    row for row (image, class, box; by falling score), on boxes crowded
    in a few clusters: the score threshold, the IoU suppression and the
    per-class cap each leave boxes out."""
    g = torch.Generator().manual_seed(0)
    batch, classes, num, cap, score_thr = 2, 3, 60, 24, 0.3
    centres = torch.rand(batch, 6, 2, generator=g) * 100
    cluster = torch.randint(0, 6, (batch, num), generator=g)
    xy = centres.gather(1, cluster[..., None].expand(-1, -1, 2)) + \
        torch.randn(batch, num, 2, generator=g) * 4
    wh = 10 + torch.rand(batch, num, 2, generator=g) * 20
    boxes = torch.cat([xy - wh / 2, xy + wh / 2], -1)
    scores = torch.rand(batch, classes, num, generator=g)
    packed = torch.cat([boxes.transpose(1, 2), scores], 1)
    module = _PackedNMS(cap, 0.45, score_thr)
    eager = module(packed)
    path = str(tmp_path / 'nms.onnx')
    torch.onnx.export(module, (packed, ), path, opset_version=17,
                      input_names=['image'], output_names=['rows'],
                      **torchscript_onnx_export_kwargs())
    np.testing.assert_array_equal(load_runtime(path)(packed)['rows'],
                                  eager.numpy())
    image, label, index = eager.T
    assert (scores[image, label, index] > score_thr).all()
    kept = collections.Counter(zip(image.tolist(), label.tolist()))
    above = (scores > score_thr).sum(-1)
    assert len(kept) == batch * classes and max(kept.values()) == cap
    assert any(n < min(cap, int(above[key])) for key, n in kept.items())


@pytest.mark.slow
def test_classifier_scored_like_pytorch(tmp_path):
    """Accuracy through the Runner, on images the test pipeline resizes to
    the graph's input."""
    root = str(tmp_path / 'cls')
    write_classification_set(root, per_class_train=0, per_class_val=3,
                             size=64)
    cfg = load_config(CLS_SYN, {
        'test_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.pipeline.1.scale': (64, 64)
    })
    model = randomize_(build_model(cfg))
    path = str(tmp_path / 'cls.onnx')
    export_onnx(deploy_graph(cfg, model, (64, 64)), path, (64, 64))
    assert evaluate_onnx(cfg, path) == runner_metrics(cfg, model)


def _synthetic_seg(tmp_path, size=64):
    """The synthetic segmentation config on a 3-image set of ``size``-px
    images, which its test pipeline leaves as they are."""
    root = str(tmp_path / 'seg')
    write_segmentation_set(root, num_train=0, num_val=3, size=size)
    return load_config(SEG_SYN, {
        'test_dataloader.dataset.data_root': root,
        'model.data_preprocessor.size': (size, size)
    })


@pytest.mark.slow
def test_logits_segmentor_scored_like_pytorch(tmp_path):
    """A logits graph is resized to the original image as mmseg does."""
    cfg = _synthetic_seg(tmp_path)
    model = randomize_(build_model(cfg))
    path = str(tmp_path / 'seg.onnx')
    export_onnx(deploy_graph(cfg, model, (64, 64), seg_output='logits'),
                path, (64, 64))
    assert evaluate_onnx(cfg, path, limit=2) == runner_metrics(
        cfg, model, limit=2)


@pytest.mark.slow
def test_detector_scored_like_pytorch(tmp_path):
    """CocoMetric through the Runner: the SSDLite graph's boxes (320-px
    synthetic images, which the test pipeline keeps at 320, the graph's
    input) score what mmdet's own predictions score."""
    root = str(tmp_path / 'det')
    write_detection_set(root, num_train=0, num_val=3)
    cfg = load_config(DET_SYN, {
        'test_dataloader.dataset.data_root': root,
        'test_evaluator.ann_file': root + '/annotations/instances_val.json'
    })
    model = randomize_(build_model(cfg))
    size = input_shape(cfg)
    path = str(tmp_path / 'det.onnx')
    export_onnx(deploy_graph(cfg, model, size), path, size)
    expected = runner_metrics(cfg, model)
    assert expected['coco/bbox_mAP_50'] > 0
    assert evaluate_onnx(cfg, path) == expected


def test_unknown_config_kind(tmp_path):
    config = tmp_path / 'plain.py'
    config.write_text('model = dict(type="Foo")\n')
    with pytest.raises(ValueError, match='unknown config kind'):
        load_config(str(config))


@pytest.mark.parametrize('config,task,deploy', [
    ('edgenext_xx_small_in1k.py', 'ClassifierTask', 'ClassifierDeploy'),
    ('ssdlite_edgenext_xx_small_coco.py', 'DetectorTask', 'DetectorDeploy'),
    ('ssdlite_edgeformer_s_coco.py', 'CvnetsDetectorTask',
     'CvnetsDetectorDeploy'),
    ('deeplabv3_edgenext_xx_small_voc12aug.py', 'SegmentorTask',
     'SegmentorDeploy'),
])
def test_task_lookup(config, task, deploy):
    """By default_scope, and for mmdet by the head type of the config or of
    the model; the deploy part follows the task."""
    cfg = load_config(cfg_path(config))
    assert type(task_for(cfg)).__name__ == task
    assert type(deploy_task(cfg)).__name__ == deploy
    assert deploy_task(cfg).task.kind == task_for(cfg).kind
    if task.endswith('DetectorTask'):
        model = build_model(cfg)
        assert type(task_for(cfg, model)).__name__ == task
        assert type(deploy_task(cfg, model)).__name__ == deploy


def test_every_kind_deploys_by_its_registration(monkeypatch):
    """The one table of kinds: each kind's registered deploy class is
    what deploy_task gives for it. A kind registered without a deploy form
    (an mmdet detector whose head has no end-to-end graph) is drawn like
    the others, but deploying it stops with a message saying so; a kind
    registered twice is refused."""
    import importlib

    from mmedgenext import tasks
    from mmedgenext.deploy import DeployTask
    for kind in tasks._TASKS:
        module, name = kind.deploy.rsplit('.', 1)
        assert issubclass(getattr(importlib.import_module(module), name),
                          DeployTask), kind.kind
    monkeypatch.setattr(tasks, '_TASKS', list(tasks._TASKS))

    @tasks.register(deploy=None)
    class RetinaTask(tasks.DetectorTask):
        kind = 'retina_detector'
        head = 'RetinaHead'

    cfg = Config(dict(default_scope='mmdet', model=dict(
        bbox_head=dict(type='RetinaHead'))))
    assert type(task_for(cfg)) is RetinaTask
    with pytest.raises(ValueError, match="^detector configs of kind "
                       "'retina_detector' have no deploy form: they cannot "
                       "be exported to ONNX$"):
        deploy_task(cfg)
    with pytest.raises(ValueError, match="'retina_detector' is registered "
                       'twice'):
        tasks.register(deploy=None)(RetinaTask)


def test_cli_reports_a_missing_checkpoint(tmp_path):
    with pytest.raises(SystemExit) as exit_:
        run_in_process('export_onnx.py', CLS, 'missing.pth', '--out',
                       tmp_path / 'x.onnx')
    assert str(exit_.value.code).startswith('error: ')
    assert 'missing.pth' in str(exit_.value.code)


@pytest.mark.slow
@pytest.mark.parametrize('arch,output_stride,runtime', [
    ('xx_small', 32, 'onnxruntime'), ('xx_small', 32, 'openvino'),
    ('xx_small', 16, 'openvino'), ('xx_small_bn_hs', 32, 'onnxruntime'),
    ('xx_small_bn_hs', 16, 'onnxruntime')])
def test_deploy_form_computes_the_same(arch, output_stride, runtime):
    """1x1 convs for the Linears, BatchNorms and layer scales folded, each
    runtime's LayerNorm form: the same maps in float, no Linear or block
    norm left in the BN family, every LayerNorm in the runtime's form."""
    model = randomize_(EdgeNeXt(arch, output_stride=output_stride)).eval()
    deployed = switch_to_deploy(model, runtime)
    x = torch.randn(2, 3, 96, 96, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for a, b in zip(model(x), deployed(x)):
            torch.testing.assert_close(b, a, rtol=1e-5,
                                       atol=1e-5 * float(a.abs().max()))
    kinds = collections.Counter(type(m).__name__
                                for m in deployed.stages.modules())
    assert kinds['Linear'] == 0 and kinds['Conv2d'] > 0
    if arch.endswith('bn_hs'):
        assert kinds['BatchNorm2d'] == 3  # the SDTA maps' (before pos. enc.)
    else:
        norms = [m for m in deployed.modules() if isinstance(m, LayerNorm2d)]
        assert len(norms) == 12 + 3 + 4 + 4  # MLPs, XCAs, stem + between, out
        assert {m.channels_first for m in norms} == {runtime == 'openvino'}
    # the model itself is untouched
    assert any(isinstance(m, torch.nn.Linear) for m in model.modules())


@pytest.mark.slow
def test_each_runtime_gets_its_layer_norm_form(tmp_path):
    """The classifier exported for ONNX Runtime keeps one fused
    LayerNormalization per norm between transposes; for OpenVINO the norms
    are written across the channel axis, and OpenVINO's CPU plugin runs
    them on the convolutions' channels-last maps: no Transpose layer, no
    Reorder but those around the attention's reshapes and the input
    (where the ONNX Runtime form makes it copy each norm's input twice).
    Both files say the runtime they are for and give the model's logits;
    a graph whose form is every runtime's (no LayerNorm) names none."""
    from mmedgenext.deploy.export import graph_runtime
    cfg = load_config(CLS)
    model = randomize_(build_model(cfg))
    img = noise_images(2, (64, 64))
    with torch.no_grad():
        logits = model(Normalize(cfg.model.data_preprocessor)(img),
                       mode='tensor').numpy()
    layers = {}
    for runtime in ('onnxruntime', 'openvino'):
        path = str(tmp_path / f'{runtime}.onnx')
        export_onnx(deploy_graph(cfg, model, (64, 64), runtime=runtime),
                    path, (64, 64), dynamic_batch=True)
        assert graph_runtime(path) == runtime
        ops = collections.Counter(n.op_type
                                  for n in onnx.load(path).graph.node)
        assert ops['LayerNormalization'] == (20 if runtime == 'onnxruntime'
                                             else 0)
        graph = load_runtime(path, 'openvino', threads=1)
        out = graph(img)['logits']
        np.testing.assert_allclose(out, logits,
                                   atol=1e-4 * np.abs(logits).max())
        layers[runtime] = collections.Counter(
            _layer_type(op) for op in
            graph.compiled.get_runtime_model().get_ordered_ops()
            if op.get_input_size() and
            _layer_type(op.input_value(0).get_node()) != 'Const')
    bn_path = str(tmp_path / 'bn.onnx')
    cfg = load_config(CLS_BN)
    export_onnx(deploy_graph(cfg, build_model(cfg), (64, 64),
                             runtime='openvino'), bn_path, (64, 64))
    assert graph_runtime(bn_path) is None  # no LayerNorm: any runtime's
    assert layers['openvino']['Transpose'] == 0
    # the input, each attention's qkv and output, the pooled features
    assert layers['openvino']['Reorder'] <= 1 + 2 * 3 + 1
    assert layers['onnxruntime']['Reorder'] >= 2 * 20


@pytest.mark.slow
def test_openvino_int8_of_the_layer_norm_classifier(tmp_path):
    """NNCF's int8 IR of the LayerNorm classifier exported for OpenVINO:
    OpenVINO's converter read the norms as MVN and the GELUs as Gelu, so
    no FakeQuantize sits inside a norm or a GELU; as NNCF's transformer
    type, FakeQuantize feeds only the ops with weights (convolutions and
    the classifier's matrix product): the norms' inputs and the residual
    stream stay float, and the attentions' products too (at 64 px
    OpenVINO leaves them MatMuls, at 256 it fuses them); every convolution
    runs an int8 kernel; the IR runs at batch 2, 8 and 2 again with the
    same first outputs (a quantized fused attention crashed OpenVINO
    2026.4 at batch 8)."""
    from mmedgenext.deploy.profile import profile_openvino
    from mmedgenext.deploy.runtimes import openvino
    cfg = load_config(CLS)
    path = str(tmp_path / 'cls.onnx')
    export_onnx(deploy_graph(cfg, randomize_(build_model(cfg)), (64, 64),
                             runtime='openvino'), path, (64, 64),
                dynamic_batch=True)
    images = [noise_images(1, (64, 64), seed=i).numpy() for i in range(3)]
    int8 = quantize(path, str(tmp_path / 'cls_int8.xml'), images,
                    runtime='openvino')
    ops = openvino().Core().read_model(int8).get_ordered_ops()
    kinds = collections.Counter(op.get_type_name() for op in ops)
    assert (kinds['MVN'], kinds['Gelu']) == (20, 12)
    assert kinds['Erf'] == 0  # (torch 2.1's F.normalize exports Pow ops)
    assert kinds['FakeQuantize'] > 0
    fed = collections.Counter(
        target.get_node().get_type_name()
        for op in ops if op.get_type_name() == 'FakeQuantize'
        for target in op.output(0).get_target_inputs())
    # (a Reshape: the attention's output on its way to the projection)
    assert set(fed) == {'Convolution', 'GroupConvolution', 'Reshape',
                        'MatMul'}
    assert fed['MatMul'] == 1  # the classifier's, not the attentions' 2 x 3
    assert sum(op.get_type_name() == 'MatMul' for op in ops) == 1 + 2 * 3
    _, counts = profile_openvino(int8, images[0], runs=1, threads=1)
    assert counts['Convolution I8'] == 34 and counts[
        'GroupConvolution I8'] == 15
    assert not [k for k in counts if 'Convolution F32' in k]
    graph = load_runtime(int8, 'openvino', threads=2)
    batch = np.concatenate(images[:2])
    first = graph(batch)['logits']
    assert graph(np.concatenate([batch] * 4))['logits'].shape == (8, 1000)
    np.testing.assert_array_equal(graph(batch)['logits'], first)


@pytest.fixture(scope='module')
def trained_layer_norm_classifier(tmp_path_factory):
    """EdgeNeXt-xx_small (LayerNorm/GELU) trained from scratch, 400
    iterations on 60 synthetic 64-px images (20 per class), until it
    classifies them all: (config, model, images as the graphs take
    them, in class order)."""
    from mmengine.runner import Runner
    tmp = tmp_path_factory.mktemp('ln_cls')
    root = str(tmp / 'data')
    write_classification_set(root, per_class_train=20, per_class_val=0,
                             size=64)
    cfg = cls_small_cfg(root, tmp / 'work', 400, batch_size=8)
    overfit_schedule(cfg, 400, lr=2e-3)
    cfg.randomness = dict(seed=0)  # no deterministic algorithms needed
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.message_hub.get_scalar(
        'val/accuracy/top1').current() == pytest.approx(100)
    images = list(pipeline_images(cfg, root + '/train', (64, 64)))
    return cfg, runner.model.eval(), images


@pytest.mark.slow
@pytest.mark.parametrize('runtime', ['onnxruntime', 'openvino'])
def test_int8_keeps_a_trained_layer_norm_classifier(
        trained_layer_norm_classifier, runtime, tmp_path):
    """Each runtime's int8 recipe on its graph form of the trained
    LayerNorm classifier, calibrated on a third of its images: the float
    graph's top-1 on at least 99% of them (all 60 here)."""
    cfg, model, images = trained_layer_norm_classifier
    path = str(tmp_path / 'cls.onnx')
    export_onnx(deploy_graph(cfg, model, (64, 64), runtime=runtime), path,
                (64, 64))
    int8 = quantize(path, str(tmp_path / ('cls_int8.xml' if runtime ==
                                          'openvino' else 'cls_int8.onnx')),
                    images[::3], runtime=runtime)
    report = compare_float_int8(cfg, path, int8, images, runtime=runtime)
    assert report['images'] == 60
    assert report['top1_agreement'] >= 0.99


def _layer_type(op):
    """The layer type of an op of OpenVINO's runtime model."""
    return op.get_rt_info()['layerType'].astype(str)


@pytest.fixture(scope='module')
def bn_classifier_int8(tmp_path_factory):
    """The BN/Hardswish classifier exported in deploy form, quantized."""
    tmp = tmp_path_factory.mktemp('bn')
    cfg, model, path = _export(CLS_BN, tmp, (96, 96), 'cls.onnx')
    images = [noise_images(1, (96, 96), seed=i).numpy() for i in range(3)]
    return cfg, path, quantize(path, tmp / 'cls_int8.onnx', images), images


@pytest.mark.slow
def test_int8_graph_runs_int8_kernels(bn_classifier_int8, tmp_path):
    """Every convolution and matrix product runs as an ONNX Runtime int8
    kernel; the deploy form leaves no layout Transpose to quantize
    around."""
    _, path, int8, _ = bn_classifier_int8
    ops = optimized_op_types(int8, tmp_path)
    assert ops['QLinearConv'] >= 40
    assert ops['Conv'] == ops['FusedConv'] == ops['MatMul'] == 0
    assert ops['Gemm'] == ops['FusedMatMul'] == 0
    assert optimized_op_types(path, tmp_path)['Transpose'] <= 1


@pytest.mark.slow
def test_openvino_runs_a_dynamic_batch_int8_detector(tmp_path):
    """NNCF's int8 IR of a dynamic-batch SSDLite export runs at batch 2 and
    back at 1 with the first call's detections (OpenVINO 2026.4's CPU
    plugin crashed running it with the batch left dynamic)."""
    cfg = load_config(DET)  # as initialised: every prior scores alike
    path = str(tmp_path / 'det.onnx')
    export_onnx(deploy_graph(cfg, build_model(cfg), (320, 320)), path,
                (320, 320), dynamic_batch=True)
    images = [x.numpy() for x in noise_images(2, (320, 320))]
    int8 = str(tmp_path / 'det_int8.xml')
    quantize(path, int8, [x[None] for x in images], runtime='openvino')
    graph = load_runtime(int8, 'openvino', threads=2)
    assert graph.input_shape[0] is None
    first = graph(images[0][None])
    both = graph(np.stack(images))
    again = graph(images[0][None])
    for name, value in first.items():
        assert len(value) == 1 and len(both[name]) == 2
        np.testing.assert_array_equal(again[name], value)


@pytest.mark.slow
def test_openvino_matches_onnxruntime(bn_classifier_int8, classifier):
    """OpenVINO runs the exported float graph and ONNX Runtime's int8 QDQ
    file with the outputs ONNX Runtime gives."""
    cfg, path, int8, images = bn_classifier_int8
    img = np.concatenate(images)
    for graph, x in ((path, img),
                     (classifier[2], noise_images(2, (128, 128)))):
        ref = load_runtime(graph)(x)['logits']
        out = load_runtime(graph, 'openvino')(x)['logits']
        np.testing.assert_allclose(out, ref, atol=1e-4 * np.abs(ref).max())
    ref = load_runtime(int8)(img)['logits']
    out = load_runtime(int8, 'openvino')(img)['logits']
    # int8 rounding differs between the runtimes' kernels: a few
    # quantization steps of the logits (0.2 here) at most, on average less
    diff = np.abs(out - ref)
    assert diff.mean() <= 0.02 * np.abs(ref).max()
    assert diff.max() <= 0.1 * np.abs(ref).max()


@pytest.mark.slow
@pytest.mark.parametrize('per_channel,int8_opset', [(False, 11), (True, 13)])
def test_int8_at_opset_11(tmp_path, per_channel, int8_opset):
    """The RDK toolchain's opset: the deploy-form export and its int8
    version run in ONNX Runtime; per-channel weights need opset 13's
    DequantizeLinear, per-tensor ones stay at 11."""
    cfg = load_config(CLS_BN)
    model = randomize_(build_model(cfg))
    path = str(tmp_path / 'cls11.onnx')
    export_onnx(deploy_graph(cfg, model, (64, 64)), path, (64, 64), opset=11)
    assert onnx.load(path).opset_import[0].version == 11
    images = [noise_images(1, (64, 64), seed=i).numpy() for i in range(2)]
    int8 = quantize(path, tmp_path / 'cls11_int8.onnx', images,
                    per_channel=per_channel)
    assert onnx.load(int8).opset_import[0].version == int8_opset
    logits = load_runtime(int8)(images[0])['logits']
    assert logits.shape == (1, 1000) and np.isfinite(logits).all()


@pytest.mark.parametrize('config,size,free', [
    # fixed: the SSD configs' Resize to their input_size, keep_ratio=False
    ('ssdlite_edgenext_xx_small_coco.py', (320, 320), False),
    ('ssdlite_edgeformer_s_coco.py', (320, 320), False),
    # fixed: ImageNet's CenterCrop after the short-side resize
    ('edgenext_xx_small_in1k.py', (256, 256), False),
    ('edgenext_xx_small_synthetic_cls.py', (128, 128), False),
    # fixed: EdgeFormer's DeepLabv3 tests at its square crop
    ('deeplabv3_edgeformer_s_voc12aug.py', (512, 512), False),
    # free: mmseg's Resize to (2048, 512) keeping the aspect ratio, traced
    # at the training crop
    ('deeplabv3_edgenext_xx_small_voc12aug.py', (512, 512), True),
    # free: no resize at all, traced at the synthetic set's crop
    ('deeplabv3_edgenext_xx_small_synthetic.py', (128, 128), True),
])
def test_the_graph_input_is_what_the_config_tests_with(config, size, free):
    """The exported input follows the config's test pipeline (read from the
    configs themselves), a --shape overrides it."""
    cfg = load_config(cfg_path(config))
    assert graph_input(cfg)[:2] == (size, free)
    assert graph_input(cfg, [96, 64]) == ((96, 64), False, '--shape')
    assert size_from_test_pipeline(cfg)[0] == (None if free else size)


@pytest.mark.slow
@pytest.mark.parametrize('config,message', [
    ('ssdlite_edgenext_xx_small_coco.py', 'its anchors are constants'),
    ('deeplabv3_edgeformer_s_voc12aug.py', 'EdgeFormer'),
])
def test_fixed_inputs_ask_for_a_shape(config, message):
    """A test pipeline keeping each image's size (keep_ratio) cannot give a
    detector or EdgeFormer free height and width: the error says why and
    asks for --shape."""
    cfg = load_config(cfg_path(config))
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            step['keep_ratio'] = True
    size, free, _ = graph_input(cfg)
    assert free
    with pytest.raises(ValueError, match=f'{message}.*--shape'):
        deploy_graph(cfg, build_model(cfg), size, free_size=True)


@pytest.mark.slow
def test_a_free_size_graph_computes_the_positional_encoding(tmp_path):
    """EdgeNeXt's stage-2 positional encoding depends on the map size: a
    classifier exported with free height and width at 64x64 gives
    mmpretrain's logits at 96x160 too (a folded 64x64 encoding cannot be
    added to a 96x160 map)."""
    cfg = load_config(CLS)
    model = randomize_(build_model(cfg))
    path = str(tmp_path / 'cls.onnx')
    export_onnx(deploy_graph(cfg, model, (64, 64), free_size=True), path,
                (64, 64), free_size=True)
    graph = load_runtime(path)
    assert graph.input_shape == [1, 3, None, None]
    for size in ((64, 64), (96, 160)):
        img = noise_images(1, size)
        with torch.no_grad():
            data = model.data_preprocessor(dict(inputs=list(img)), False)
            reference = model(data['inputs'], mode='tensor').numpy()
        np.testing.assert_allclose(graph(img)['logits'], reference, rtol=0,
                                   atol=1e-4 * np.ptp(reference))


@pytest.mark.slow
def test_a_runtime_crash_is_an_error_naming_it(tmp_path):
    """OpenVINO's CPU plugin does not check GatherND's indices: one 2**42
    rows past an 8x8 input reads 2**47 bytes beyond it, outside any mapping,
    a real segmentation fault. The graph runs in a child process first, so
    the call raises RuntimeCrash naming the runtime and its version, the
    signal, the graph, the input and what to try; this process lives on."""
    from importlib.metadata import version

    import openvino as ov
    import openvino.opset13 as ops

    from mmedgenext.deploy.runtimes import RuntimeCrash
    image = ops.parameter([1, 3, 8, 8], np.float32, name='image')
    far = ops.constant(np.array([[0, 0, 2**42, 0]], np.int64))
    path = str(tmp_path / 'crash.xml')
    ov.save_model(ov.Model([ops.gather_nd(image, far)], [image]), path)
    graph = load_runtime(path, 'openvino')
    with pytest.raises(RuntimeCrash) as crash:
        graph(np.ones((1, 3, 8, 8), np.float32))
    message = str(crash.value)
    assert message.startswith(
        f'OpenVINO {version("openvino")} crashed (SIGSEGV) running {path} on '
        'a (1, 3, 8, 8) input, in a child process tried before this one. ')
    assert '--runtime onnxruntime' in message
