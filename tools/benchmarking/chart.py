"""The accuracy-latency chart of tools/benchmark_deploy.py: each classifier
with a published ImageNet top-1, in each runtime and precision it ran, at
its measured median latency, one panel per batch size, the Pareto front
(no other point both faster and more accurate) marked."""
import os
from dataclasses import dataclass

RUNTIME_MARKERS = {'onnxruntime': 'o', 'openvino': 's', 'eager': '^',
                   'compile': 'v'}
PRECISION_FILL = {'fp32': 'none', 'int8': 'full', 'bf16': 'left'}
RUNTIME_NAMES = {'onnxruntime': 'ONNX Runtime', 'openvino': 'OpenVINO',
                 'eager': 'PyTorch eager', 'compile': 'torch.compile'}


@dataclass(frozen=True)
class Point:
    """One model in one runtime and precision at one batch size."""
    label: str
    family: str
    runtime: str
    precision: str
    batch: int
    ms: float
    top1: float


def pareto_front(points):
    """The points no other point beats on both axes (faster and at least
    as accurate, or as fast and more accurate), fastest first."""
    front = []
    for p in sorted(points, key=lambda p: (p.ms, -p.top1)):
        if not front or p.top1 > front[-1].top1:
            front.append(p)
    return front


def draw(points, path, title):
    """Write the chart of ``points`` (:class:`Point`) to ``path`` (PNG);
    returns the figure. Colour: the model family; marker: the runtime;
    fill: the precision (open fp32, full int8, half bf16). The front is
    joined by a line and its points named."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import ScalarFormatter

    batches = sorted({p.batch for p in points})
    families = list(dict.fromkeys(p.family for p in points))
    colours = dict(zip(families, plt.get_cmap('tab10').colors))
    fig, axes = plt.subplots(1, len(batches), squeeze=False,
                             figsize=(6.5 * len(batches), 5.2))
    for ax, batch in zip(axes[0], batches):
        panel = [p for p in points if p.batch == batch]
        for p in panel:
            ax.plot(p.ms, p.top1, linestyle='none',
                    marker=RUNTIME_MARKERS[p.runtime],
                    fillstyle=PRECISION_FILL[p.precision],
                    color=colours[p.family], markersize=7, gid='point')
        front = pareto_front(panel)
        ax.plot([p.ms for p in front], [p.top1 for p in front], '-',
                color='0.4', linewidth=1, zorder=0, drawstyle='steps-post',
                gid='front')
        for k, p in enumerate(front):  # below and above, alternately
            ax.annotate(f'{p.label} {RUNTIME_NAMES[p.runtime]} '
                        f'{p.precision}', (p.ms, p.top1), fontsize=7,
                        xytext=(5, (-11, 4)[k % 2]),
                        textcoords='offset points')
        ax.set_xscale('log')
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(ScalarFormatter())
        ax.tick_params(axis='x', which='minor', labelsize=7)
        ax.set_xlabel(f'median latency at batch {batch}, ms (log)')
        ax.set_ylabel('published ImageNet top-1, %')
        ax.grid(True, which='both', linewidth=0.3)
    handles = [Line2D([], [], linestyle='none', marker='o', color=colours[f],
                      label=f) for f in families]
    handles += [Line2D([], [], linestyle='none', color='k',
                       marker=RUNTIME_MARKERS[r], fillstyle='none',
                       label=RUNTIME_NAMES[r])
                for r in dict.fromkeys(p.runtime for p in points)]
    handles += [Line2D([], [], linestyle='none', color='k', marker='o',
                       fillstyle=PRECISION_FILL[q], label=q)
                for q in dict.fromkeys(p.precision for p in points)]
    handles.append(Line2D([], [], color='0.4', label='Pareto front'))
    fig.legend(handles=handles, loc='lower center', ncol=min(
        len(handles), 7), fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.09, 1, 0.95))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=90)
    return fig
