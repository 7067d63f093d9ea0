"""The embedded segmentation default: generator, tools and the errors a
user meets (what a trained segmentor scores: test_learning.py; resume and
DDP: test_detection.py)."""
import glob
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT, randomize_, seg_small_cfg, train_briefly
from mmengine.config import Config
from PIL import Image

from mmedgenext.synthetic_data import write_segmentation_set

CONFIG = os.path.join(ROOT, 'configs',
                      'deeplabv3_edgenext_xx_small_synthetic.py')


@pytest.fixture(scope='module')
def seg_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('seg'))
    write_segmentation_set(root, num_train=16, num_val=4, size=64)
    return root


def test_generator_writes_voc_layout(seg_root, tmp_path):
    names = open(os.path.join(
        seg_root, 'ImageSets/Segmentation/train.txt')).read().split()
    assert len(names) == 16
    label = Image.open(os.path.join(seg_root, 'SegmentationClass',
                                    names[0] + '.png'))
    assert label.mode == 'P'
    values = set(np.unique(np.array(label)))
    assert values <= {0, 1, 2, 3, 255} and 255 in values  # borders ignored
    image = Image.open(os.path.join(seg_root, 'JPEGImages',
                                    names[0] + '.jpg'))
    assert image.size == label.size == (64, 64)
    again = str(tmp_path / 'again')
    write_segmentation_set(again, num_train=16, num_val=4, size=64)
    assert np.array_equal(
        np.array(label),
        np.array(Image.open(os.path.join(again, 'SegmentationClass',
                                         names[0] + '.png'))))


@pytest.fixture(scope='module')
def trained(seg_root, tmp_path_factory):
    """A config file and the checkpoint of a 2-iteration run."""
    work = tmp_path_factory.mktemp('trained')
    return train_briefly(seg_small_cfg(seg_root, work / 'work', 2), work)


@pytest.mark.slow
def test_test_tool_writes_coloured_overlays(trained, tmp_path):
    cfg_path, checkpoint = trained
    show_dir = tmp_path / 'vis'
    subprocess.run([
        sys.executable, 'tools/test.py', cfg_path, checkpoint, '--show-dir',
        str(show_dir), '--work-dir', str(tmp_path / 'test')
    ], check=True, cwd=ROOT, capture_output=True)
    overlays = glob.glob(str(show_dir / '**' / '*.png'), recursive=True)
    assert len(overlays) == 4  # one per validation image


@pytest.fixture(scope='module')
def varied_segmentor(trained, tmp_path_factory):
    """The 2-iteration segmentor with a seeded random decode head, so that
    it labels the image with several classes (the trained one says
    background everywhere). Saved with the run's dataset metadata."""
    import torch
    from mmseg.apis import init_model
    cfg_path, checkpoint = trained
    model = init_model(cfg_path, checkpoint, device='cpu')
    randomize_(model.decode_head, seed=3)
    saved = torch.load(checkpoint, map_location='cpu', weights_only=False)
    path = str(tmp_path_factory.mktemp('varied') / 'varied.pth')
    torch.save(dict(meta=saved['meta'], state_dict=model.state_dict()),
               path)
    return cfg_path, path


@pytest.mark.slow
def test_demo_draws_the_segmentation(varied_segmentor, seg_root, tmp_path):
    """The image tools/demo.py writes is what mmseg's inference API and
    visualizer give: at (nearly) every pixel the palette colour of the
    predicted class over the image, as mmseg blends it (alpha 0.8)."""
    import mmcv
    from mmseg.apis import inference_model, init_model
    from mmseg.registry import VISUALIZERS
    cfg_path, checkpoint = varied_segmentor
    image = sorted(glob.glob(os.path.join(seg_root, 'JPEGImages',
                                          'val_*.jpg')))[0]
    out = tmp_path / 'out.png'
    subprocess.run([sys.executable, 'tools/demo.py', image, cfg_path,
                    checkpoint, '--out', str(out)], check=True, cwd=ROOT,
                   capture_output=True)
    drawn = np.asarray(Image.open(out).convert('RGB')).astype(int)
    under = mmcv.imread(image, channel_order='rgb').astype(int)
    assert drawn.shape == under.shape == (64, 64, 3)

    model = init_model(cfg_path, checkpoint, device='cpu')
    result = inference_model(model, mmcv.imread(image))
    visualizer = VISUALIZERS.build(dict(model.cfg.visualizer,
                                        name='demo_test'))
    visualizer.dataset_meta = model.dataset_meta
    visualizer.add_datasample('expected', under.astype(np.uint8),
                              data_sample=result, draw_gt=False)
    assert np.array_equal(drawn, visualizer.get_image())

    labels = result.pred_sem_seg.data[0].numpy()
    assert len(np.unique(labels)) >= 2
    palette = np.array(model.dataset_meta['palette'])
    expected = 0.8 * palette[labels] + 0.2 * under
    assert (np.abs(drawn - expected).max(-1) <= 2).mean() > 0.7
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'not an image')
    result = subprocess.run([sys.executable, 'tools/demo.py', str(broken),
                             cfg_path, checkpoint], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode != 0 and 'broken.jpg' in result.stderr
    assert 'Traceback' not in result.stderr


@pytest.mark.slow
def test_missing_data_says_where_and_how(tmp_path):
    result = subprocess.run([
        sys.executable, 'tools/train.py',
        'configs/deeplabv3_edgenext_xx_small_voc12aug.py', '--work-dir',
        str(tmp_path), '--cfg-options',
        f'train_dataloader.dataset.datasets.0.data_root={tmp_path}/VOC2012'
    ], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert 'does not exist' in result.stderr
    assert 'voc_aug.py' in result.stderr
    assert 'Traceback' not in result.stderr


def test_label_map_of_another_size_is_named(seg_root, tmp_path):
    import shutil

    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    root = str(tmp_path / 'broken')
    shutil.copytree(seg_root, root)
    name = open(os.path.join(
        root, 'ImageSets/Segmentation/train.txt')).read().split()[0]
    label_path = os.path.join(root, 'SegmentationClass', name + '.png')
    Image.open(label_path).resize((48, 64)).save(label_path)
    cfg = Config.fromfile(CONFIG)
    init_default_scope('mmseg')
    dataset = DATASETS.build(dict(cfg.train_dataloader.dataset,
                                  data_root=root))
    with pytest.raises(ValueError, match=f'{name}.png is 48x64 but its '
                       f'image .*{name}.jpg is 64x64'):
        dataset[0]
