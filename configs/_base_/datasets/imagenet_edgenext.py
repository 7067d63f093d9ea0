# ImageNet-1k as the reference recipe reads it (the authors' main.py and
# datasets.py): bicubic random-resized crops, flips, colour jitter 0.4;
# evaluation at a 292 short side (bicubic) and a 256 centre crop (crop_pct
# 0.875). Training crops are 320, the largest multi-scale size: the data
# preprocessor resizes each batch down to its drawn size. RandAugment and
# Mixup/CutMix are added by the variants that use them. Data:
# data/imagenet/{train,val}/<class>/*.JPEG, or with meta/train.txt and
# meta/val.txt as mmpretrain's ImageNet dataset documents.
dataset_type = 'ImageNet'
data_root = 'data/imagenet'
train_crop = 320
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=train_crop, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=292, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=256),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=512,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
