"""The deploy form of a model, its task's graph (:mod:`.tasks`), the input
size the config tests with, and the ONNX export of that graph."""
import contextlib
import copy
import warnings

import torch

from mmedgenext.compat import torchscript_onnx_export_kwargs
from mmedgenext.models.layers import LayerNorm2d
from mmedgenext.tasks import task_for
from .tasks import deploy_task

DEFAULT_OPSET = 17  # F.layer_norm -> one LayerNormalization node
# Transforms that give every image a size of their own: they keep the
# aspect ratio, or draw the size.
_OWN_SIZE = ('ResizeEdge', 'RandomResize', 'RandomChoiceResize',
             'RandomRescale', 'Rescale')


def _test_pipeline(cfg):
    """The test dataset's pipeline (inside dataset wrappers), or []."""
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    while 'pipeline' not in dataset:
        inner = dataset.get('dataset') or (dataset.get('datasets') or
                                           [None])[0]
        if not inner:
            return []
        dataset = inner
    return dataset['pipeline']


def _width_height(value):
    """An mmcv ``scale``/``crop_size``/``size`` ((w, h) or one int) as
    (h, w)."""
    w, h = (value, value) if isinstance(value, int) else value
    return int(h), int(w)


def size_from_test_pipeline(cfg):
    """(size, source): the (H, W) the config's test pipeline gives every
    image, or None where it leaves each image a size of its own (no resize,
    as mmseg's whole-image inference; a resize that keeps the aspect
    ratio), and a phrase saying which step decides."""
    size, source = None, "the test pipeline keeps each image's own size"
    for step in _test_pipeline(cfg):
        kind = step['type'] if isinstance(step['type'], str) else \
            step['type'].__name__
        kind = kind.split('.')[-1]
        if kind in ('Resize', 'FixShapeResize'):
            scale = step.get('scale') or (
                (step['width'], step['height']) if 'width' in step else None)
            if scale is None or step.get('keep_ratio', False):
                size, source = None, (
                    f'the test pipeline\'s {kind} keeps the aspect ratio, '
                    'each image gets a size of its own')
            else:
                size = _width_height(scale)
                source = f'the test pipeline\'s {kind}'
        elif kind in _OWN_SIZE:
            size, source = None, (f'the test pipeline\'s {kind} gives each '
                                  'image a size of its own')
        elif kind == 'CenterCrop':
            size, source = _width_height(step['crop_size']), \
                "the test pipeline's CenterCrop"
        elif kind == 'Pad' and step.get('size'):
            size, source = _width_height(step['size']), \
                "the test pipeline's Pad"
    return size, source


def graph_input(cfg, shape=None):
    """(size, free, source) of the graph to export for ``cfg``: a fixed
    (H, W) from ``--shape H [W]`` or the config's test pipeline
    (:func:`size_from_test_pipeline`); where that pipeline keeps each
    image's own size, ``free`` height and width, and ``size`` the example
    the graph is traced and checked at (the data preprocessor's training
    size, else the task's default). ``source`` says where the size comes
    from."""
    if shape:
        h, w = (list(shape) * 2)[:2]
        return (h, w), False, '--shape'
    size, source = size_from_test_pipeline(cfg)
    if size is not None:
        return size, False, source
    example = cfg.model.get('data_preprocessor', {}).get('size')  # (h, w)
    if example:
        return tuple(example), True, source
    side = task_for(cfg).default_size
    return (side, side), True, source


# How each runtime's graph writes the LayerNorms of NCHW maps, chosen from
# both runtimes' per-node profiles (docs/deploy_benchmark.md). OpenVINO's
# CPU plugin keeps the convolutions' maps channels-last in memory and runs
# a norm across the channel axis there in place, where the permutes around
# a channels-last LayerNormalization become copies (Transpose and Reorder
# nodes). ONNX Runtime runs a channels-last LayerNormalization as one
# fused kernel, its permutes folded into its own layout changes, and the
# channel-axis form as seven nodes per norm: 1.13x slower at batch 1 (0.86x
# at batch 8; batch 1, the edge case, decides).
CHANNELS_FIRST_NORM = {'onnxruntime': False, 'openvino': True}
# The ONNX metadata key naming the runtime a graph's form is for.
RUNTIME_KEY = 'mmedgenext_runtime'


def switch_to_deploy(model, runtime='onnxruntime'):
    """A copy of ``model`` with each module that has an inference form (the
    EdgeNeXt backbone: 1x1 convs on NCHW maps, norms and layer scales
    folded) switched to it, its LayerNorms written in the form
    ``runtime`` runs fastest (:data:`CHANNELS_FIRST_NORM`): the same
    function, a graph the runtimes fuse better. ``model`` itself is left as
    it is."""
    if runtime not in CHANNELS_FIRST_NORM:
        raise ValueError(f'runtime must be one of '
                         f'{", ".join(CHANNELS_FIRST_NORM)}, got {runtime!r}')
    model = copy.deepcopy(model).eval()
    # Parents first (a block folds its layer scales into its attention's
    # convs); children already switched by their parent ignore the call.
    for module in model.modules():
        if hasattr(module, 'switch_to_deploy'):
            module.switch_to_deploy()
    for module in model.modules():
        if isinstance(module, LayerNorm2d):
            module.channels_first = CHANNELS_FIRST_NORM[runtime]
    return model


def deploy_graph(cfg, model, size, seg_output='labels', deploy_form=True,
                 free_size=False, runtime='onnxruntime'):
    """The module to export for the config's task, at input ``size``; with
    ``deploy_form`` around the inference form of (a copy of) ``model`` for
    ``runtime`` (:func:`switch_to_deploy`), which :func:`export_onnx`
    records in the file when the form depends on it (LayerNorms).
    ``free_size``: for an export with free height and width (``size`` the
    example), ValueError where the task or the backbone has a fixed input.
    """
    task = deploy_task(cfg, model)
    if free_size:
        _check_free_size(task, model)
    if deploy_form:
        model = switch_to_deploy(model, runtime)
    graph = task.graph(model, size, seg_output)
    graph.runtime = runtime if deploy_form and any(
        isinstance(m, LayerNorm2d) for m in model.modules()) else None
    return graph


def graph_runtime(path):
    """The runtime whose form the graph at ``path`` was exported in (see
    :func:`deploy_graph`), None if its form is every runtime's (no
    LayerNorms) or it does not say."""
    import onnx
    props = onnx.load(str(path), load_external_data=False).metadata_props
    return next((p.value for p in props if p.key == RUNTIME_KEY), None)


def _check_free_size(task, model):
    from mmedgenext.models import EdgeFormer
    if not task.free_size:
        raise ValueError(
            f"the config's test pipeline keeps each image's own size, but "
            f'a {task.name} graph takes one fixed size ({task.fixed_because})'
            ': export it with --shape H W, the size the test images are '
            'resized to (or resize them in the test pipeline)')
    if any(isinstance(m, EdgeFormer) for m in model.modules()):
        raise ValueError(
            "the config's test pipeline keeps each image's own size, but "
            "EdgeFormer's global circular convolutions are sized to one "
            'square input when the graph is made: export it with --shape S, '
            'the size the test images are resized to')


@contextlib.contextmanager
def _encodings_from_the_input(graph):
    """Positional encodings computed in the graph from its input's size,
    not folded to the traced size's constant (see
    :class:`~mmedgenext.models.layers.FourierPositionalEncoding`)."""
    from mmedgenext.models.layers import FourierPositionalEncoding
    encodings = [m for m in graph.modules()
                 if isinstance(m, FourierPositionalEncoding)]
    for m in encodings:
        m.fixed_size = False
    try:
        yield
    finally:
        for m in encodings:
            m.fixed_size = True


def export_onnx(graph, path, size, batch=1, opset=DEFAULT_OPSET,
                dynamic_batch=False, simplify=False, free_size=False):
    """Write ``graph`` as ONNX with one input, ``image``, traced at
    ``size``.

    Uses the TorchScript exporter (``dynamo=False``): the NMS op's symbolic
    exports there. The spatial size is fixed (the positional encoding folds
    to a constant) unless ``free_size``, the batch optionally dynamic.
    """
    example = torch.zeros(batch, 3, *size)
    axes = {'image': {}, **{name: {} for name in graph.output_names}}
    if dynamic_batch:
        for name in axes:
            axes[name][0] = 'batch'
    if free_size:
        axes['image'].update({2: 'height', 3: 'width'})
        for name, (h, w) in graph.spatial_axes.items():
            axes[name].update({h: 'height', w: 'width'})
    free = contextlib.nullcontext() if not free_size else \
        _encodings_from_the_input(graph)
    with torch.no_grad(), warnings.catch_warnings(), free:
        # Benign here: values the trace fixes (static sizes), slices left
        # unfolded, index ops (all indices are non-negative).
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', '(Constant folding|Exporting aten)')
        torch.onnx.export(
            graph, (example, ), path, opset_version=opset,
            input_names=['image'], output_names=graph.output_names,
            dynamic_axes={k: v for k, v in axes.items() if v} or None,
            do_constant_folding=True, **torchscript_onnx_export_kwargs())
    runtime = getattr(graph, 'runtime', None)
    if simplify or runtime:
        import onnx
        model = onnx.load(path)
        if simplify:
            import onnxslim
            model = onnxslim.slim(model)
        if runtime:
            onnx.helper.set_model_props(model, {RUNTIME_KEY: runtime})
        onnx.save(model, path)
    return path
