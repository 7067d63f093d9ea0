# The embedded segmentation default: DeepLabv3 + EdgeNeXt-XXS (BatchNorm/
# Hardswish; output stride 16, the paper protocol's head) trained from
# scratch on the synthetic shapes set that
# `python tools/make_synthetic_data.py` writes in VOC layout
# (data/synthetic/seg: JPEG images, palette PNG labels, 255 on object
# borders). About 7 minutes on 2 CPU cores (mIoU 60.9).
# From scratch the head gets no 10x learning rate (that is for a pretrained
# backbone; with it, at 2e-2 AdamW, the loss stalls at the class prior), and
# the schedule is long: the model labels most pixels background for the
# first ~1000 iterations (mIoU 37.7 after 1400).
_base_ = './deeplabv3_edgenext_xx_small_voc12aug.py'
data_root = 'data/synthetic/seg'
data_preparation = ('Make it with: python tools/make_synthetic_data.py '
                    '--kinds seg')
classes = ('background', 'circle', 'square', 'triangle')
palette = [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0]]
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch='xx_small_bn_hs',
                  init_cfg=None),  # from scratch: no download needed
    decode_head=dict(num_classes=len(classes), channels=128))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='mmedgenext.CheckSegMapSize'),
    dict(type='RandomResize', scale=crop_size, ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
dataset = dict(
    type='BaseSegDataset',
    data_root=data_root,
    metainfo=dict(classes=classes, palette=palette),
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
    img_suffix='.jpg',
    seg_map_suffix='.png')
train_dataloader = dict(
    _delete_=True,
    batch_size=8,
    num_workers=0,  # decoding is cheap; a worker would contend for 2 cores
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(dataset, ann_file='ImageSets/Segmentation/train.txt',
                 pipeline=train_pipeline))
val_dataloader = dict(
    _delete_=True,
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(dataset, ann_file='ImageSets/Segmentation/val.txt',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
max_iters = 2600
optim_wrapper = dict(
    optimizer=dict(lr=2e-3),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=1.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0,
         end=100),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=100,
         end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1, save_best=None))
randomness = dict(seed=0)
