# COCO 2017 at 320x320 with the pipelines of mmdet's
# ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py (SSD's photometric,
# expand and crop augmentation).
_base_ = 'mmdet::_base_/datasets/coco_detection.py'
data_root = 'data/coco/'
data_preparation = (
    'Download COCO 2017 (train2017, val2017, annotations_trainval2017) from '
    'https://cocodataset.org and unpack it as data/coco/{train2017,val2017,'
    'annotations}, or set --cfg-options train_dataloader.dataset.data_root=.. '
    'val_dataloader.dataset.data_root=.. test_dataloader.dataset.data_root=..')
input_size = 320
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Expand', mean=[123.675, 116.28, 103.53], to_rgb=True,
         ratio_range=(1, 4)),
    dict(type='MinIoURandomCrop', min_ious=(0.1, 0.3, 0.5, 0.7, 0.9),
         min_crop_size=0.3),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion', brightness_delta=32,
         contrast_range=(0.5, 1.5), saturation_range=(0.5, 1.5),
         hue_delta=18),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    batch_sampler=None,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
