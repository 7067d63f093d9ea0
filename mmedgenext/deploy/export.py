"""The deploy form of a model, its task's graph (:mod:`.tasks`) and the
ONNX export of that graph."""
import copy
import warnings

import torch

from mmedgenext.compat import torchscript_onnx_export_kwargs
from mmedgenext.models.layers import LayerNorm2d
from .tasks import deploy_task

DEFAULT_OPSET = 17  # F.layer_norm -> one LayerNormalization node

# How each runtime's graph writes the LayerNorms of NCHW maps, chosen from
# both runtimes' per-node profiles (docs/deploy_benchmark.md). OpenVINO's
# CPU plugin keeps the convolutions' maps channels-last in memory and runs
# a norm across the channel axis there in place, where the permutes around
# a channels-last LayerNormalization become copies (Transpose and Reorder
# nodes). ONNX Runtime runs a channels-last LayerNormalization as one
# fused kernel, its permutes folded into its own layout changes, and the
# channel-axis form as seven separate nodes.
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
                 runtime='onnxruntime'):
    """The module to export for the config's task, at input ``size``; with
    ``deploy_form`` around the inference form of (a copy of) ``model`` for
    ``runtime`` (:func:`switch_to_deploy`), which :func:`export_onnx`
    records in the file when the form depends on it (LayerNorms)."""
    task = deploy_task(cfg, model)
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


def export_onnx(graph, path, size, batch=1, opset=DEFAULT_OPSET,
                dynamic_batch=False, simplify=False):
    """Write ``graph`` as ONNX with one input, ``image``.

    Uses the TorchScript exporter (``dynamo=False``): the NMS op's symbolic
    and the shape-dependent positional encoding fold into a static graph
    there; the spatial size is fixed, the batch optionally dynamic.
    """
    example = torch.zeros(batch, 3, *size)
    dynamic_axes = None
    if dynamic_batch:
        dynamic_axes = {name: {0: 'batch'}
                        for name in ['image'] + graph.output_names}
    with torch.no_grad(), warnings.catch_warnings():
        # Benign here: values the trace fixes (static sizes), slices left
        # unfolded, index ops (all indices are non-negative).
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', '(Constant folding|Exporting aten)')
        torch.onnx.export(
            graph, (example, ), path, opset_version=opset,
            input_names=['image'], output_names=graph.output_names,
            dynamic_axes=dynamic_axes, do_constant_folding=True,
            **torchscript_onnx_export_kwargs())
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
