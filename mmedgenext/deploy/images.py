"""Images as the exported graphs take them: float (B, 3, H, W), BGR, 0-255."""
from pathlib import Path

import mmcv
import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')


def noise_images(batch, size, seed=0):
    """Deterministic noise images."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, *size, generator=g).mul(255).round()


def pipeline_images(cfg, folder, size=None, limit=None):
    """The images under ``folder`` (sorted; ``limit`` of them spread evenly
    over that order) as (1, 3, H,
    W) float32 arrays, preprocessed by the config's test pipeline (loading,
    resize, crop; annotations and packing left out). An image the pipeline
    leaves at another size than a graph's fixed input ``size`` (mmseg keeps
    the aspect ratio) is resized to it; a graph with free height and width
    (``size`` None or (None, None)) takes each as it is."""
    paths = sorted(p for p in Path(folder).rglob('*')
                   if p.suffix.lower() in IMAGE_SUFFIXES)
    if limit is not None and limit < len(paths):
        # evenly over the sorted list: every class folder, not the first
        paths = [paths[i * len(paths) // limit] for i in range(limit)]
    if not paths:
        raise FileNotFoundError(f'no images ({", ".join(IMAGE_SUFFIXES)}) '
                                f'under {folder}')
    steps = [t for t in cfg.test_dataloader.dataset.pipeline
             if not t['type'].split('.')[-1].startswith(
                 ('LoadAnnotations', 'Pack'))]
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        pipeline = Compose(steps)
    fixed = size is not None and None not in size
    for path in paths:
        img = pipeline(dict(img_path=str(path)))['img']
        if fixed and img.shape[:2] != tuple(size):
            img = mmcv.imresize(img, tuple(size)[::-1])
        yield img.transpose(2, 0, 1)[None].astype(np.float32)
