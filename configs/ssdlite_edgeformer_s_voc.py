# ml-cvnets SSDLite + EdgeFormer-S on Pascal VOC 07+12 at 320x320.
_base_ = [
    './_base_/models/ssdlite_cvnets.py',
    './_base_/datasets/voc0712_cvnets320.py',
    './_base_/schedules/cvnets_ssd_adamw.py',
    'mmdet::_base_/default_runtime.py',
]
model = dict(bbox_head=dict(num_classes=20))
