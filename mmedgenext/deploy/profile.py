"""Where a runtime spends a graph's time: its per-node profile summed by
kind of node, on the graph it actually runs (after its fusions): ONNX
Runtime's node types, OpenVINO's layer types with the precision of the
kernel that ran them."""
import collections
import json
import os
import tempfile

import onnx
import onnxruntime as ort

from .verify import run_onnx


def _kind(node, producers):
    """Op type, convolutions split into depthwise / pointwise / other, and
    (de)quantization by the op that feeds it."""
    kind = node.op_type
    if kind in ('Conv', 'FusedConv', 'QLinearConv'):
        attrs = {a.name: a for a in node.attribute}
        if attrs.get('group') and attrs['group'].i > 1:
            kind += ' depthwise'
        elif 'kernel_shape' in attrs and list(
                attrs['kernel_shape'].ints) == [1, 1]:
            kind += ' 1x1'
    elif kind in ('QuantizeLinear', 'DequantizeLinear'):
        kind += f' after {producers.get(node.input[0], "input")}'
    return kind


def profile_onnx(path, img, runs=10, threads=None):
    """(ms per run by node kind, count of the nodes that ran by kind) of
    ``path`` on ``img`` in ONNX Runtime's CPU provider, most expensive
    first."""
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(tmp, 'profile')
        options.optimized_model_filepath = os.path.join(tmp, 'opt.onnx')
        session = ort.InferenceSession(str(path), options,
                                       providers=['CPUExecutionProvider'])
        for _ in range(runs + 1):
            run_onnx(session, img)
        with open(session.end_profiling()) as f:
            events = json.load(f)
        graph = onnx.load(options.optimized_model_filepath).graph
    producers = {out: n.op_type for n in graph.node for out in n.output}
    kinds = {n.name: _kind(n, producers) for n in graph.node}
    times, ran = collections.Counter(), {}
    for e in sorted(events, key=lambda e: e['ts']):
        if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time'):
            name = e['name'][:-len('_kernel_time')]
            if name not in ran:  # the first run warms up: counted, not timed
                # nodes ORT adds after saving the graph: by their op type
                ran[name] = kinds.get(name, e['args']['op_name'])
                continue
            times[ran[name]] += e['dur'] / 1e3
    counts = collections.Counter(ran.values())
    return {k: t / runs for k, t in times.most_common()}, counts


def profile_openvino(path, img, runs=10, threads=None):
    """(ms per run by kind, executed layer count by kind) of ``path`` (ONNX
    or OpenVINO IR) on ``img`` in OpenVINO's CPU plugin, most expensive
    first. A kind is the layer type and the precision its kernel ran in
    (the end of the plugin's exec type, upper case: ``Convolution I8``
    for ``brgconv_avx512_1x1_I8``); layers fused into others are left out."""
    from .runtimes import OpenVINOModel
    model = OpenVINOModel(path, threads, profile=True)
    times, counts = collections.Counter(), collections.Counter()
    for run in range(runs + 1):
        model(img)
        executed = [p for p in model.request.get_profiling_info()
                    if p.status == p.Status.EXECUTED]
        kinds = [f'{p.node_type} {p.exec_type.rsplit("_", 1)[-1].upper()}'
                 for p in executed]
        if run == 0:  # the warm-up run: its layers counted, not timed
            counts.update(kinds)
            continue
        for kind, p in zip(kinds, executed):
            times[kind] += p.real_time.total_seconds() * 1e3
    return {k: t / runs for k, t in times.most_common()}, counts
