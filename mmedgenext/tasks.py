"""What a config is: a classifier (mmpretrain), an SSD detector of mmdet or
of ml-cvnets (mmdet), or a segmentor (mmseg); its default input size and how
its predictions are drawn (tools/test.py ``--show-dir``, tools/demo.py).

The API, the tools and :mod:`mmedgenext.deploy` ask a config's
:class:`Task` instead of switching on the library themselves (as mmdeploy's
codebase tasks: one class per kind of model, chosen from the config).
Nothing here imports a runtime or an OpenMMLab library at the top: the light
:mod:`mmedgenext.apis` reads the tasks' sizes; the inference APIs are
imported where a prediction is drawn.

This is the one table of kinds: each is registered (:func:`register`) with
its deploy form, the :class:`mmedgenext.deploy.DeployTask` that exports and
checks its graph (named, imported when a config of the kind is deployed),
so that adding a kind is one class here and its deploy module.
"""
import importlib.util
import os.path as osp

_TASKS = []


class MissingToolkitError(ModuleNotFoundError):
    """A config needs a toolkit (mmdet, mmseg, mmpretrain) that is not
    installed; the message names the extra that installs it."""


class Task:
    """One kind of model: a config's ``default_scope`` and, for detectors,
    the type of its bbox head."""
    kind = None  # unique key: 'classifier', 'detector', 'cvnets_detector'...
    name = None  # what users call it: 'classifier', 'detector', 'segmentor'
    scope = None  # the config's default_scope: the toolkit's import name
    extra = None  # mmedgenext's extra that installs the toolkit
    head = None  # a bbox_head type this task is for (None: any)
    default_size = None  # input side of the paper's protocol
    deploy = None  # dotted path of its DeployTask class (set by register)

    def __init__(self, cfg):
        self.cfg = cfg

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
        from the library's ``visualizers`` registry without its storage
        backends (the drawing goes to ``out`` alone)."""
        import mmcv
        visualizer = visualizers.build(dict(model.cfg.visualizer,
                                            vis_backends=None))
        visualizer.dataset_meta = model.dataset_meta
        visualizer.add_datasample('result', mmcv.bgr2rgb(image),
                                  data_sample=result, draw_gt=False,
                                  out_file=out, **kwargs)


def register(deploy):
    """Register a :class:`Task` subclass as a kind of config, with its
    deploy form: the dotted path of its
    :class:`~mmedgenext.deploy.DeployTask` class, or None for a kind that
    cannot be deployed (deploying its configs is an error saying so)."""
    def add(cls):
        if any(t.kind == cls.kind for t in _TASKS):
            raise ValueError(f'task kind {cls.kind!r} is registered twice')
        cls.deploy = deploy
        _TASKS.append(cls)
        return cls
    return add


_DEPLOY = 'mmedgenext.deploy.tasks.'


@register(deploy=_DEPLOY + 'classifier.ClassifierDeploy')
class ClassifierTask(Task):
    kind = name = 'classifier'
    scope = 'mmpretrain'
    extra = 'cls'
    default_size = 256  # ImageNet at 256

    def _draw_test(self, hook, show_dir):
        hook.update(enable=True, out_dir=show_dir)

    def infer_and_draw(self, checkpoint, image, out, device='cpu',
                       score_thr=0.3):
        import mmcv
        from mmpretrain.apis import ImageClassificationInferencer
        from mmpretrain.visualization import UniversalVisualizer
        inferencer = ImageClassificationInferencer(
            self.cfg, pretrained=checkpoint, device=device)
        result = inferencer(image, return_datasamples=True)[0]
        # The inferencer builds its visualizer only when it draws itself.
        visualizer = inferencer.visualizer or UniversalVisualizer()
        visualizer.visualize_cls(
            mmcv.bgr2rgb(image), result, classes=inferencer.classes,
            draw_gt=False, out_file=out)


@register(deploy=_DEPLOY + 'detector.DetectorDeploy')
class DetectorTask(Task):
    """mmdet's SSD detectors (``SSDHead`` and its subclasses: SSDLite)."""
    kind = name = 'detector'
    scope = 'mmdet'
    extra = 'det'
    default_size = 320  # SSDLite's input

    def _draw_test(self, hook, show_dir):
        hook.update(draw=True, test_out_dir=show_dir)

    def infer_and_draw(self, checkpoint, image, out, device='cpu',
                       score_thr=0.3):
        from mmdet.apis import inference_detector, init_detector
        from mmdet.registry import VISUALIZERS
        model = init_detector(self.cfg, checkpoint, device=device)
        self._draw(model, VISUALIZERS, image,
                   inference_detector(model, image), out,
                   pred_score_thr=score_thr)


@register(deploy=_DEPLOY + 'cvnets_detector.CvnetsDetectorDeploy')
class CvnetsDetectorTask(DetectorTask):
    """ml-cvnets' SSDLite (``CvnetsSSDHead``): an mmdet detector drawn as
    the others, deployed with its own post-processing."""
    kind = 'cvnets_detector'
    head = 'CvnetsSSDHead'


@register(deploy=_DEPLOY + 'segmentor.SegmentorDeploy')
class SegmentorTask(Task):
    kind = name = 'segmentor'
    scope = 'mmseg'
    extra = 'seg'
    default_size = 512  # DeepLabv3's crop

    def _draw_test(self, hook, show_dir):
        hook.update(draw=True, interval=1)
        if show_dir:
            self.cfg.visualizer.save_dir = show_dir

    def infer_and_draw(self, checkpoint, image, out, device='cpu',
                       score_thr=0.3):
        from mmseg.apis import inference_model, init_model
        from mmseg.registry import VISUALIZERS
        model = init_model(self.cfg, checkpoint, device=device)
        self._draw(model, VISUALIZERS, image, inference_model(model, image),
                   out)


def _head_type(cfg, model):
    if model is not None:
        head = getattr(model, 'bbox_head', None)
        return None if head is None else type(head).__name__
    head = cfg.get('model', {}).get('bbox_head') or {}
    return head.get('type', '').split('.')[-1] or None


def task_for(cfg, model=None):
    """The task of a config (and of ``model``, built from it, where the
    head type must come from the model itself): by ``default_scope``, then
    by the bbox head's type. ValueError for a scope no task serves,
    :class:`MissingToolkitError` for a toolkit that is not installed."""
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
    if importlib.util.find_spec(task.scope) is None:
        raise _missing_toolkit(task)
    return task(cfg)


def _missing_toolkit(task):
    return MissingToolkitError(
        f'a {task.name} config needs {task.scope}, which is not installed: '
        f"pip install 'mmedgenext[{task.extra}]'")


def _base_scopes(path):
    """The toolkits named by ``scope::`` bases of the config file ``path``
    and of its local bases."""
    from mmengine.config import Config
    for base in Config._get_base_files(path):
        if '::' in base:
            yield base.split('::')[0]
        else:
            yield from _base_scopes(osp.join(osp.dirname(path), base))


def read_config(path, cfg_options=None):
    """``Config.fromfile(path)`` with ``cfg_options`` merged, for a config a
    task serves whose toolkit is installed. Errors that name the file:
    FileNotFoundError for a missing one, :class:`MissingToolkitError`
    naming the extra to install where the config (or a base it reads from
    a toolkit) needs a toolkit that is not installed, ValueError for a
    config no task serves."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    try:
        cfg = Config.fromfile(path)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        task_for(cfg)
    except ModuleNotFoundError as e:
        missing = e if isinstance(e, MissingToolkitError) else next(
            (_missing_toolkit(t) for scope in _base_scopes(path)
             for t in _TASKS if t.scope == scope
             and importlib.util.find_spec(scope) is None), None)
        if missing is None:
            raise
        raise MissingToolkitError(f'{path}: {missing}') from None
    except ValueError as e:
        raise ValueError(f'{path}: {e}') from None
    return cfg
