"""Exported graphs scored as the PyTorch models are: an mmengine model
around an ONNX Runtime (or OpenVINO) session, run by the Runner's test loop
on the config's test dataloader and scored by the config's evaluator."""
import copy
import tempfile

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.runner import Runner

from .runtimes import load_runtime
from .tasks import deploy_task

# Points of the test metric (DeployTask.metric_points) a float graph may
# score away from the PyTorch model it was exported from: what pixels at
# logit ties and boxes within float rounding move, not a different model.
MAX_FLOAT_DIFF = 0.1


class GraphModel(BaseModel):
    """An exported graph as an mmengine model for the test loop.

    The graph normalises images itself, so the data preprocessor only moves
    the batch to the device. Each image (float BGR 0-255, as the test
    pipeline leaves it) goes in as it is to a graph with free height and
    width, and is resized bilinearly to a graph's fixed input if its size
    differs; the task turns the graph's outputs into the data samples the
    PyTorch model's ``predict`` would give (boxes in the original image,
    label maps at ``ori_shape``, class scores).
    """

    def __init__(self, cfg, path, threads=None, runtime='onnxruntime'):
        super().__init__()
        self.task = deploy_task(cfg)
        self.graph = load_runtime(path, runtime, threads=threads)
        size = tuple(self.graph.input_shape[2:])
        self.size = None if None in size else size  # None: free

    def forward(self, inputs, data_samples=None, mode='predict'):
        if mode != 'predict':
            raise ValueError(f'an exported graph only predicts, got mode '
                             f'{mode!r}')
        for img, sample in zip(inputs, data_samples):
            img = img[None].float().cpu()
            shape = size = tuple(img.shape[2:])
            if self.size is not None and shape != self.size:
                size = self.size
                img = F.interpolate(img, size, mode='bilinear')
            outputs = {k: torch.from_numpy(v)[0]
                       for k, v in self.graph(img.numpy()).items()}
            self.task.add_prediction(outputs, sample, shape, size)
        return data_samples


def runner_metrics(cfg, model, limit=None, work_dir=None):
    """The config's test metrics for ``model`` (the PyTorch model or a
    :class:`GraphModel`): its test dataloader (the first ``limit`` images
    if given), test loop and evaluator, through ``Runner.test``. Logs go to
    ``work_dir``, by default a temporary folder. The config's hooks (EMA,
    drawing) are left out: they act on a PyTorch model's parameters and
    would differ between the two kinds of model."""
    loader = copy.deepcopy(cfg.test_dataloader)
    if limit is not None:
        loader.dataset.indices = limit  # BaseDataset: the first N
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(
            model=model, work_dir=work_dir or tmp, test_dataloader=loader,
            test_cfg=cfg.get('test_cfg') or dict(type='TestLoop'),
            test_evaluator=cfg.test_evaluator,
            default_scope=cfg.default_scope,
            env_cfg=cfg.get('env_cfg', dict(dist_cfg=dict(backend='nccl'))),
            log_level='WARNING')
        return runner.test()


def evaluate_onnx(cfg, path, limit=None, threads=None,
                  runtime='onnxruntime', work_dir=None):
    """The config's own test metric (CocoMetric, IoUMetric, Accuracy, ...)
    for an exported graph on the config's test set (its first ``limit``
    images), run in ``runtime``.

    A float graph scores what the PyTorch model scores when both see the
    same pixels: the graph takes the images the test pipeline gives (free
    height and width, or the pipeline's fixed size) and the data
    preprocessor pads nothing (otherwise the graph sees the image resized,
    the model padded)."""
    graph = GraphModel(cfg, path, threads, runtime)
    return runner_metrics(cfg, graph, limit, work_dir)
