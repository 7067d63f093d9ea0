# SSDLite-EdgeNeXt-S on COCO 2017 at 320x320 (paper: 27.9 mAP, 6.2M, 2.1G).
_base_ = [
    './_base_/models/ssdlite_edgenext.py',
    './_base_/datasets/coco_detection_ssdlite320.py',
    './_base_/schedules/ssdlite_adamw_cosine.py',
    'mmdet::_base_/default_runtime.py',
]
