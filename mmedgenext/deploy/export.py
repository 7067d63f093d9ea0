"""The deploy form of a model, its task's graph (:mod:`.tasks`) and the
ONNX export of that graph."""
import copy
import warnings

import torch

from mmedgenext.compat import torchscript_onnx_export_kwargs
from .tasks import deploy_task

DEFAULT_OPSET = 17  # F.layer_norm -> one LayerNormalization node


def switch_to_deploy(model):
    """A copy of ``model`` with each module that has an inference form (the
    EdgeNeXt backbone: 1x1 convs on NCHW maps, norms and layer scales
    folded) switched to it: the same function, a graph int8 runtimes fuse
    better. ``model`` itself is left as it is."""
    model = copy.deepcopy(model).eval()
    # Parents first (a block folds its layer scales into its attention's
    # convs); children already switched by their parent ignore the call.
    for module in model.modules():
        if hasattr(module, 'switch_to_deploy'):
            module.switch_to_deploy()
    return model


def deploy_graph(cfg, model, size, seg_output='labels', deploy_form=True):
    """The module to export for the config's task, at input ``size``; with
    ``deploy_form`` around the inference form of (a copy of) ``model``."""
    task = deploy_task(cfg, model)
    if deploy_form:
        model = switch_to_deploy(model)
    return task.graph(model, size, seg_output)


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
    if simplify:
        import onnx
        import onnxslim
        onnx.save(onnxslim.slim(onnx.load(path)), path)
    return path
