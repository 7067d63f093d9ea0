# SSDLite-EdgeNeXt-S on Pascal VOC 07+12 (test: VOC07, VOC mAP), 320x320.
# The COCO recipe with 120 epochs: VOC's 16.5k images give ~130 iterations
# per epoch at batch 128, so 200 epochs would be ~26k iterations only.
_base_ = [
    './_base_/models/ssdlite_edgenext.py',
    './_base_/datasets/voc0712_ssdlite320.py',
    './_base_/schedules/ssdlite_adamw_cosine.py',
    'mmdet::_base_/default_runtime.py',
]
model = dict(bbox_head=dict(num_classes=20))
max_epochs = 120
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
]
