"""How fast a runtime runs a graph, and where it spends the time: its
per-node profile summed by kind of node, on the graph it actually runs
(after its fusions): ONNX Runtime's node types, OpenVINO's layer types with
the precision of the kernel that ran them.

Latencies are timed the way a shared machine allows
(:func:`time_interleaved`): tools/quantize_onnx.py chooses the graph to ship
by them, and the benchmark tools build on the same timing."""
import collections
import functools
import json
import os
import random
import statistics
import tempfile
import time

from .runtimes import RUNTIMES, has_openvino, load_runtime


def time_interleaved(fns, rounds, warmup=1, sync=None):
    """Seconds per round of each zero-argument callable of ``fns`` (a dict
    by name): ``warmup`` untimed rounds in order, then ``rounds`` rounds
    that each time every callable once in a shuffled order, so that slow
    drifts of the machine's load reach them all alike. ``sync`` (e.g.
    ``torch.cuda.synchronize``) is called around each timed call."""
    seconds = {name: [] for name in fns}
    order = list(fns)
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            if sync:
                sync()
            start = time.perf_counter()
            fns[name]()
            if sync:
                sync()
            seconds[name].append(time.perf_counter() - start)
    return seconds


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
    import onnx
    with tempfile.TemporaryDirectory() as tmp:
        optimized = os.path.join(tmp, 'optimized.onnx')
        graph = load_runtime(path, threads=threads, profile=tmp,
                             optimized_path=optimized)
        for _ in range(runs + 1):
            graph(img)
        with open(graph.session.end_profiling()) as f:
            events = json.load(f)
        nodes = onnx.load(optimized).graph.node
    producers = {out: n.op_type for n in nodes for out in n.output}
    kinds = {n.name: _kind(n, producers) for n in nodes}
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
    graph = load_runtime(path, 'openvino', threads=threads, profile=True)
    times, counts = collections.Counter(), collections.Counter()
    for run in range(runs + 1):
        graph(img)
        executed = [p for p in graph.request.get_profiling_info()
                    if p.status == p.Status.EXECUTED]
        kinds = [f'{p.node_type} {p.exec_type.rsplit("_", 1)[-1].upper()}'
                 for p in executed]
        if run == 0:  # the warm-up run: its layers counted, not timed
            counts.update(kinds)
            continue
        for kind, p in zip(kinds, executed):
            times[kind] += p.real_time.total_seconds() * 1e3
    return {k: t / runs for k, t in times.most_common()}, counts


PROFILERS = {'onnxruntime': profile_onnx, 'openvino': profile_openvino}


def latency_by_runtime(float_path, int8_paths, img, threads=None,
                       rounds=20):
    """Median ms of the float graph in every installed runtime and of an
    int8 graph in each: ``int8_paths`` maps a runtime to the int8 file made
    for it; a runtime without one runs ONNX Runtime's QDQ file if there is
    one (OpenVINO runs it too; an OpenVINO IR runs only there). Timed
    interleaved on ``img``: ``{(runtime, 'fp32' | 'int8'): ms}``."""
    graphs = {}
    for runtime in RUNTIMES:
        if runtime == 'openvino' and not has_openvino():
            continue
        int8 = int8_paths.get(runtime, int8_paths.get('onnxruntime'))
        for precision, path in (('fp32', float_path), ('int8', int8)):
            if path is not None:
                graphs[runtime, precision] = functools.partial(load_runtime(
                    path, runtime, threads=threads), img)
    seconds = time_interleaved(graphs, rounds)
    return {key: statistics.median(t) * 1e3 for key, t in seconds.items()}


def fastest(latencies, precision=None):
    """The (runtime, precision) to ship: the lowest of
    :func:`latency_by_runtime`'s medians (of ``precision``'s only, if
    given)."""
    return min((k for k in latencies if precision in (None, k[1])),
               key=latencies.get)
