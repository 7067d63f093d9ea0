"""Deterministic synthetic shape scenes: the embedded default data set.

One renderer draws circles, squares and triangles of random colours on
textured, noisy backgrounds, overlapping freely; writers lay the scenes out
the way the real data sets are laid out, so the same configs and tools run
on them: detection in COCO and VOC layout, segmentation in VOC layout
(palette PNGs, 255 on object borders), classification in ImageNet class
folders.
"""
import json
import os
import os.path as osp
from xml.etree import ElementTree as ET

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from pycocotools import mask as mask_util

CLASSES = ('circle', 'square', 'triangle')
SEG_PALETTE = [(0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0)]
IGNORE_INDEX = 255


def _background(rng, size):
    """A random colour with smooth large-scale shading and pixel noise."""
    cells = int(rng.integers(2, 6))
    coarse = rng.uniform(-60, 60, (cells, cells, 3)).astype(np.float32)
    shading = np.stack([
        np.array(Image.fromarray(coarse[..., c]).resize(
            (size, size), Image.BICUBIC))
        for c in range(3)
    ], axis=-1)
    noise = rng.normal(0, 20, (size, size, 3))
    return np.clip(rng.integers(40, 216, 3) + shading + noise, 0,
                   255).astype(np.uint8)


def _outline(cls, cx, cy, r):
    if cls == 0:
        return 'ellipse', [cx - r, cy - r, cx + r, cy + r]
    if cls == 1:
        return 'rectangle', [cx - r, cy - r, cx + r, cy + r]
    return 'polygon', [(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)]


def render_scene(rng, size, num_objects, radius_range):
    """Return ``(image, objects, label_map)``: a PIL image, a list of
    ``dict(label, bbox=[x1, y1, x2, y2], mask)`` for the objects still
    visible (``mask``: their visible pixels),
    and the per-pixel class index (0 background, label + 1 objects; later
    objects occlude earlier ones)."""
    image = Image.fromarray(_background(rng, size))
    labels = Image.new('L', (size, size), 0)
    draw_img, draw_lab = ImageDraw.Draw(image), ImageDraw.Draw(labels)
    instances = np.full((size, size), -1, np.int32)
    placed = []
    for index in range(num_objects):
        cls = int(rng.integers(len(CLASSES)))
        r = int(rng.integers(*radius_range))
        cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
        kind, outline = _outline(cls, cx, cy, r)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        getattr(draw_img, kind)(outline, fill=colour)
        getattr(draw_lab, kind)(outline, fill=cls + 1)
        mask = Image.new('1', (size, size), 0)
        getattr(ImageDraw.Draw(mask), kind)(outline, fill=1)
        instances[np.array(mask)] = index
        placed.append(cls)
    objects = []
    for index, cls in enumerate(placed):
        mask = instances == index
        ys, xs = np.nonzero(mask)
        if len(xs) < 16:  # hidden behind later objects
            continue
        objects.append(dict(label=cls, bbox=[int(xs.min()), int(ys.min()),
                                             int(xs.max()) + 1,
                                             int(ys.max()) + 1], mask=mask))
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    return image, objects, np.array(labels)


def _scenes(seed, count, size, objects_range, radius_range):
    rng = np.random.default_rng(seed)
    for i in range(count):
        num = int(rng.integers(objects_range[0], objects_range[1] + 1))
        yield i, render_scene(rng, size, num, radius_range)


def write_detection_set(root, num_train=600, num_val=100, size=320,
                        seed=0):
    """COCO layout (``annotations/instances_{train,val}.json`` with boxes
    and RLE instance masks, ``{train,val}/*.jpg``) and VOC layout
    (``VOC2007/{JPEGImages,Annotations,ImageSets/Main}``) of the same
    scenes: 1-6 objects of 16-160 px per 320-px image."""
    voc = osp.join(root, 'VOC2007')
    for d in (osp.join(root, 'annotations'), osp.join(root, 'train'),
              osp.join(root, 'val'), osp.join(voc, 'JPEGImages'),
              osp.join(voc, 'Annotations'), osp.join(voc, 'ImageSets',
                                                     'Main')):
        os.makedirs(d, exist_ok=True)
    for split, count, split_seed in (('train', num_train, seed),
                                     ('val', num_val, seed + 1)):
        images, annotations, names = [], [], []
        scenes = _scenes(split_seed, count, size, (1, 6), (8, 80))
        for i, (image, objects, _) in scenes:
            name = f'{split}_{i:05d}'
            names.append(name)
            path = osp.join(root, split, name + '.jpg')
            image.save(path, quality=92)
            voc_path = osp.join(voc, 'JPEGImages', name + '.jpg')
            if osp.exists(voc_path):
                os.remove(voc_path)
            os.link(path, voc_path)  # one file, both layouts
            images.append(dict(id=i, file_name=name + '.jpg', width=size,
                               height=size))
            for obj in objects:
                x1, y1, x2, y2 = obj['bbox']
                rle = mask_util.encode(np.asfortranarray(obj['mask']))
                rle['counts'] = rle['counts'].decode('ascii')
                annotations.append(dict(
                    id=len(annotations) + 1, image_id=i,
                    category_id=obj['label'] + 1, iscrowd=0,
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=(x2 - x1) * (y2 - y1), segmentation=rle))
            _write_voc_xml(osp.join(voc, 'Annotations', name + '.xml'),
                           name, size, objects)
        categories = [dict(id=i + 1, name=n) for i, n in enumerate(CLASSES)]
        with open(osp.join(root, 'annotations', f'instances_{split}.json'),
                  'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories), f)
        with open(osp.join(voc, 'ImageSets', 'Main', f'{split}.txt'),
                  'w') as f:
            f.write('\n'.join(names) + '\n')


def _write_voc_xml(path, name, size, objects):
    ann = ET.Element('annotation')
    ET.SubElement(ann, 'filename').text = name + '.jpg'
    dims = ET.SubElement(ann, 'size')
    for key, value in (('width', size), ('height', size), ('depth', 3)):
        ET.SubElement(dims, key).text = str(value)
    for obj in objects:
        node = ET.SubElement(ann, 'object')
        ET.SubElement(node, 'name').text = CLASSES[obj['label']]
        ET.SubElement(node, 'difficult').text = '0'
        box = ET.SubElement(node, 'bndbox')
        for key, value in zip(('xmin', 'ymin', 'xmax', 'ymax'), obj['bbox']):
            ET.SubElement(box, key).text = str(value)
    ET.ElementTree(ann).write(path)


def write_segmentation_set(root, num_train=800, num_val=60, size=128,
                           seed=0):
    """VOC layout: ``JPEGImages/*.jpg``, ``SegmentationClass/*.png``
    (palette PNGs: 0 background, 1-3 shapes, 255 on object borders) and
    ``ImageSets/Segmentation/{train,val}.txt``."""
    for d in ('JPEGImages', 'SegmentationClass',
              osp.join('ImageSets', 'Segmentation')):
        os.makedirs(osp.join(root, d), exist_ok=True)
    palette = [v for colour in SEG_PALETTE for v in colour]
    palette += [0] * (768 - len(palette))
    palette[3 * IGNORE_INDEX:3 * IGNORE_INDEX + 3] = [224, 224, 192]
    for split, count, split_seed in (('train', num_train, seed),
                                     ('val', num_val, seed + 1)):
        names = []
        scenes = _scenes(split_seed, count, size, (1, 4),
                         (size // 10, size // 3))
        for i, (image, _, label_map) in scenes:
            name = f'{split}_{i:05d}'
            names.append(name)
            image.save(osp.join(root, 'JPEGImages', name + '.jpg'),
                       quality=92)
            label = Image.fromarray(label_map, mode='L')
            borders = np.array(label.filter(ImageFilter.FIND_EDGES)) > 0
            label_map = label_map.copy()
            label_map[borders] = IGNORE_INDEX
            png = Image.fromarray(label_map, mode='P')
            png.putpalette(palette)
            png.save(osp.join(root, 'SegmentationClass', name + '.png'))
        with open(osp.join(root, 'ImageSets', 'Segmentation',
                           f'{split}.txt'), 'w') as f:
            f.write('\n'.join(names) + '\n')


def write_classification_set(root, per_class_train=40, per_class_val=10,
                             size=96, seed=0):
    """ImageNet class folders ``{train,val}/<class>/*.jpg``, one large
    shape per image."""
    for split, count, split_seed in (('train', per_class_train, seed),
                                     ('val', per_class_val, seed + 1)):
        rng = np.random.default_rng(split_seed)
        for cls, name in enumerate(CLASSES):
            os.makedirs(osp.join(root, split, name), exist_ok=True)
        made = {cls: 0 for cls in range(len(CLASSES))}
        while min(made.values()) < count:
            image, objects, _ = render_scene(rng, size, 1,
                                             (size // 5, size // 3))
            cls = objects[0]['label']
            if made[cls] < count:
                image.save(osp.join(root, split, CLASSES[cls],
                                    f'{made[cls]:05d}.jpg'), quality=92)
                made[cls] += 1


WRITERS = {
    'det': write_detection_set,  # COCO and VOC layout
    'seg': write_segmentation_set,  # VOC layout
    'cls': write_classification_set,  # ImageNet class folders
}


def ensure_synthetic_set(root, kind, force=False):
    """Write the ``kind`` set into ``root/kind`` unless a complete one is
    there (a ``.complete`` stamp, written last, marks it). Returns whether
    it was written."""
    target = osp.join(root, kind)
    stamp = osp.join(target, '.complete')
    if osp.exists(stamp) and not force:
        return False
    WRITERS[kind](target)
    open(stamp, 'w').close()
    return True
