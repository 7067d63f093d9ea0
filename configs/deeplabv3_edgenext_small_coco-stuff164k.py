# DeepLabv3 + EdgeNeXt-S on COCO-Stuff 164k (171 classes, 512x512 crops),
# 80k iterations at batch 16 as mmseg's COCO-Stuff 164k recipes.
# Data: data/coco_stuff164k, prepared by mmseg's
# tools/dataset_converters/coco_stuff164k.py.
_base_ = [
    './_base_/datasets/coco-stuff164k.py',
    'mmseg::_base_/default_runtime.py',
    './_base_/models/deeplabv3_edgenext.py',
    './_base_/schedules/deeplabv3_adamw_cosine.py',
]
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=171))
train_dataloader = dict(batch_size=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=False, begin=500,
         end=80000),
]
train_cfg = dict(max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
