"""What deploying a task means, the interface each kind implements: the
graph to export, the OpenMMLab model's own prediction as the reference, the
checks of a graph's outputs against it and of int8 against float, and the
graph's outputs as data samples for the config's evaluator.

Which task a config is (and its size, its drawing) is
:mod:`mmedgenext.tasks`'s; each :class:`DeployTask` serves one
:attr:`~mmedgenext.tasks.Task.kind`.
"""
import torch
import torch.nn as nn


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
    """Deploying one kind of model (``task``, a
    :class:`mmedgenext.tasks.Task`).

    Graphs take float ``(B, 3, H, W)`` BGR images with values 0-255 (what
    the test pipeline produces) at a fixed ``size`` or, where the task
    allows it, at any size (``free_size``), and normalise them themselves;
    their outputs come as a dict of arrays by output name.
    """
    # The test metric int8 is held to (the last part of an evaluator key,
    # the first that matches), and its points per unit (COCO and VOC mAP
    # come as fractions: 100).
    quality_metrics = ()
    metric_points = 1
    # Whether the graph can take free height and width (exported so where
    # the test pipeline keeps each image's size), and if not, why not.
    free_size = False
    fixed_because = ''

    def __init__(self, task):
        self.task = task
        self.cfg = task.cfg

    @property
    def name(self):
        return self.task.name

    def graph(self, model, size, output=None):
        """The module to export at input ``size``; ``output`` chooses among
        the outputs a task offers (the segmentor's label map or logits;
        None: the default), tasks with one output form ignore it."""
        raise NotImplementedError

    def reference(self, model, img):
        """The OpenMMLab model's own prediction for ``img`` (a float BGR
        0-255 batch), in the form :meth:`compare` takes."""
        raise NotImplementedError

    def work_around(self, model):
        """Repair, in place, what stops ``model``'s own predict (the
        reference) in an installed library; a line naming each repair, for
        the tools to print."""
        return []

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
        pipeline gave it, ``size`` the graph's input it was resized to (the
        same where the graph takes the image as it is)."""
        raise NotImplementedError

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
