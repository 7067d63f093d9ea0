"""The interface every deployable task implements, and the lookup of a
config's task (as mmdeploy's codebase tasks: one class per kind of model,
chosen from the config, so that export, checks, evaluation and drawing ask
it instead of switching on the task themselves).

Task modules import no runtime (ONNX Runtime, OpenVINO) and no inference
API at the top: the light :mod:`mmedgenext.apis` reads their default input
sizes. Those are imported where they are used.
"""
import os.path as osp

import mmcv
import torch
import torch.nn as nn

_TASKS = []


class OnnxMismatchError(RuntimeError):
    """ONNX Runtime's outputs differ from PyTorch's beyond the tolerance."""


class Normalize(nn.Module):
    """The data preprocessor's arithmetic in the graph: BGR -> RGB,
    (x - mean) / std."""

    def __init__(self, preprocessor_cfg):
        super().__init__()
        self.to_rgb = preprocessor_cfg.get(
            'bgr_to_rgb', preprocessor_cfg.get('to_rgb', False))
        self.register_buffer('mean', torch.tensor(
            preprocessor_cfg.get('mean', [0.] * 3)).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(
            preprocessor_cfg.get('std', [1.] * 3)).view(1, 3, 1, 1))

    def forward(self, img):
        if self.to_rgb:
            img = img[:, [2, 1, 0]]
        return (img - self.mean) / self.std


class DeployTask:
    """One kind of model (a config's ``default_scope``, for detectors also
    its head type) and what deploying it means.

    Graphs take float ``(B, 3, H, W)`` BGR images with values 0-255 (what
    the test pipeline produces) at a fixed ``size``, and normalise them
    themselves; their outputs come as a dict of arrays by output name.
    """
    name = None  # 'classifier', 'detector', 'segmentor'
    scope = None  # the config's default_scope
    head = None  # a bbox_head type this task is for (None: any)
    default_size = None  # input side of the paper's protocol
    # The test metric int8 is held to (the last part of an evaluator key,
    # the first that matches), and its points per unit (COCO and VOC mAP
    # come as fractions: 100).
    quality_metrics = ()
    metric_points = 1

    def __init__(self, cfg):
        self.cfg = cfg

    def graph(self, model, size, output=None):
        """The module to export at input ``size``; ``output`` chooses among
        the outputs a task offers (the segmentor's label map or logits;
        None: the default), tasks with one output form ignore it."""
        raise NotImplementedError

    def reference(self, model, img):
        """The OpenMMLab model's own prediction for ``img`` (a float BGR
        0-255 batch), in the form :meth:`compare` takes."""
        raise NotImplementedError

    def compare(self, reference, outputs, size, atol=1e-4):
        """Check a graph's ``outputs`` against :meth:`reference`; return a
        one-line report, raise :class:`OnnxMismatchError` beyond ``atol``.
        """
        raise NotImplementedError

    def compare_int8(self, pairs):
        """How far an int8 graph moves from the float one: a dict of
        figures over ``pairs`` of (float outputs, int8 outputs)."""
        raise NotImplementedError

    def add_prediction(self, outputs, data_sample, shape, size):
        """Store a graph's ``outputs`` (tensors) for one image in
        ``data_sample`` as the PyTorch model's ``predict`` does, for the
        config's evaluator. ``shape`` is the image's (H, W) as the test
        pipeline gave it, ``size`` the graph's input it was resized to."""
        raise NotImplementedError

    def enable_visualization(self, show_dir=None, show=False, wait_time=2.):
        """Let the config's visualization hook draw test predictions into
        ``show_dir`` (and/or a window), for tools/test.py."""
        hook = self.cfg.get('default_hooks', {}).get('visualization')
        if hook is None:
            raise ValueError('The config has no default_hooks.visualization')
        hook.update(show=show, wait_time=wait_time)
        self._draw_test(hook, show_dir and osp.abspath(show_dir))
        return self.cfg

    def _draw_test(self, hook, show_dir):
        """The hook settings that make this library's hook draw."""
        raise NotImplementedError

    def infer_and_draw(self, checkpoint, image, out, device='cpu',
                       score_thr=0.3):
        """Run the model of ``checkpoint`` on one BGR ``image`` with its
        library's inference API and save the drawn result to ``out``;
        ``score_thr`` is the lowest detection score drawn."""
        raise NotImplementedError

    @staticmethod
    def _draw(model, visualizers, image, result, out, **kwargs):
        """Draw ``result`` on ``image`` with the config's visualizer, built
        from the library's ``visualizers`` registry."""
        visualizer = visualizers.build(model.cfg.visualizer)
        visualizer.dataset_meta = model.dataset_meta
        visualizer.add_datasample('result', mmcv.bgr2rgb(image),
                                  data_sample=result, draw_gt=False,
                                  out_file=out, **kwargs)

    @staticmethod
    def _predict(model, img, sample_type):
        """``model.test_step`` on ``img``, one data sample of
        ``sample_type`` per image, metadata saying nothing was resized."""
        h, w = img.shape[2:]
        meta = dict(img_shape=(h, w), ori_shape=(h, w),
                    scale_factor=(1., 1.))
        inputs = list(img)
        samples = [sample_type(metainfo=meta) for _ in inputs]
        with torch.no_grad():
            return model.test_step(dict(inputs=inputs, data_samples=samples))


def register_task(cls):
    """Class decorator: make ``cls`` a task :func:`task_for` can pick."""
    _TASKS.append(cls)
    return cls


def _head_type(cfg, model):
    if model is not None:
        head = getattr(model, 'bbox_head', None)
        return None if head is None else type(head).__name__
    head = cfg.get('model', {}).get('bbox_head') or {}
    return head.get('type', '').split('.')[-1] or None


def task_for(cfg, model=None):
    """The task of a config (and of ``model``, built from it, where the
    head type must come from the model itself): by ``default_scope``, then
    by the bbox head's type. ValueError for a scope no task serves."""
    scope = cfg.get('default_scope')
    tasks = [t for t in _TASKS if t.scope == scope]
    if not tasks:
        known = ', '.join(f'{t.scope} ({t.name})' for t in _TASKS
                          if t.head is None)
        raise ValueError(f'unknown config kind (default_scope={scope!r}); '
                         f'expected {known}')
    head = _head_type(cfg, model)
    task = next((t for t in tasks if t.head == head), None) or next(
        t for t in tasks if t.head is None)
    return task(cfg)
