# COCO-Stuff 164k (118k train, 5k val images, 171 classes), 512x512 crops,
# as mmseg's _base_/datasets/coco-stuff164k.py with a check that every label
# map matches its image's size.
dataset_type = 'COCOStuffDataset'
data_root = 'data/coco_stuff164k'
data_preparation = (
    'COCO-Stuff 164k must be in data/coco_stuff164k (images/{train,val}2017'
    '/, annotations/{train,val}2017/*_labelTrainIds.png). Download the COCO '
    '2017 images and stuffthingmaps_trainval2017.zip, then run mmseg\'s '
    'converter: python tools/dataset_converters/coco_stuff164k.py '
    'data/coco_stuff164k --nproc 8 (from an mmsegmentation checkout), or '
    'set data_root with --cfg-options.')
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='mmedgenext.CheckSegMapSize'),
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path='images/train2017',
                                  seg_map_path='annotations/train2017'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path='images/val2017',
                                  seg_map_path='annotations/val2017'),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
