# Pascal VOC 2012 + SBD augmented labels (10,582 train, 1,449 val images,
# 21 classes), 512x512 crops, as mmseg's _base_/datasets/pascal_voc12_aug.py
# with a check that every label map matches its image's size (its Pad step
# is the segmentor's data preprocessor's size).
dataset_type = 'PascalVOCDataset'
data_root = 'data/VOCdevkit/VOC2012'
data_preparation = (
    'Pascal VOC 2012 with the SBD augmented labels must be in '
    'data/VOCdevkit/VOC2012 (JPEGImages/, SegmentationClass/, '
    'SegmentationClassAug/, ImageSets/Segmentation/{train,val,aug}.txt). '
    'Download VOC2012 and SBD, then run mmseg\'s converter: python '
    'tools/dataset_converters/voc_aug.py data/VOCdevkit data/VOCdevkit/'
    'VOCaug --nproc 8 (from an mmsegmentation checkout), or set data_root '
    'with --cfg-options.')
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
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path='JPEGImages',
                                  seg_map_path='SegmentationClass'),
                 ann_file='ImageSets/Segmentation/train.txt',
                 pipeline=train_pipeline),
            dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path='JPEGImages',
                                  seg_map_path='SegmentationClassAug'),
                 ann_file='ImageSets/Segmentation/aug.txt',
                 pipeline=train_pipeline),
        ]))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path='JPEGImages',
                                  seg_map_path='SegmentationClass'),
                 ann_file='ImageSets/Segmentation/val.txt',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
