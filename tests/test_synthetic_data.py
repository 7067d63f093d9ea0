"""The data generator: layouts the real data sets' loaders read, objects
within spec, deterministic, idempotent CLI."""
import os
import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest
from helpers import ROOT
from PIL import Image

from mmedgenext.synthetic_data import (CLASSES, write_classification_set,
                                       write_detection_set)


def test_detection_set_in_coco_and_voc_layout(tmp_path, monkeypatch):
    from pycocotools.coco import COCO
    monkeypatch.chdir(tmp_path.parent)  # a relative root, as the CLI's
    write_detection_set(tmp_path.name, num_train=6, num_val=3)
    coco = COCO(str(tmp_path / 'annotations' / 'instances_train.json'))
    assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(
        CLASSES)
    for image_id in coco.getImgIds():
        info = coco.loadImgs(image_id)[0]
        assert Image.open(tmp_path / 'train' / info['file_name']).size == (
            320, 320)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        assert 1 <= len(anns) <= 6
        for ann in anns:
            x, y, w, h = ann['bbox']
            assert 0 <= x and 0 <= y and x + w <= 320 and y + h <= 320
            assert max(w, h) <= 161
        xml = ET.parse(tmp_path / 'VOC2007' / 'Annotations' /
                       info['file_name'].replace('.jpg', '.xml'))
        assert len(xml.findall('object')) == len(anns)
    names = (tmp_path / 'VOC2007/ImageSets/Main/val.txt').read_text().split()
    assert len(names) == 3


def test_classification_set_in_class_folders(tmp_path):
    write_classification_set(str(tmp_path), per_class_train=3,
                             per_class_val=2, size=64)
    for split, count in (('train', 3), ('val', 2)):
        assert sorted(os.listdir(tmp_path / split)) == sorted(CLASSES)
        for name in CLASSES:
            assert len(os.listdir(tmp_path / split / name)) == count


@pytest.mark.slow
def test_cli_writes_once(tmp_path):
    cmd = [sys.executable, 'tools/make_synthetic_data.py', '--root',
           str(tmp_path), '--kinds', 'cls']
    first = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                           check=True)
    assert 'written' in first.stdout
    second = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                            check=True)
    assert 'already there' in second.stdout
