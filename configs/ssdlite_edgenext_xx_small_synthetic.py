# The embedded detection default: SSDLite + EdgeNeXt-XXS (BatchNorm/Hardswish)
# trained from scratch on the synthetic shapes set that
# `python tools/make_synthetic_data.py` writes (data/synthetic/det, COCO
# layout: circles, squares and triangles of 16-160 px on 320-px images).
# `make demo` trains and evaluates it in about 12 minutes on 2 CPU cores.
#
# Where it departs from the COCO configs, and why:
# - From scratch in ~1200 iterations: the BatchNorm/Hardswish variant, whose
#   training loss fell much faster than the LayerNorm one's on this set
#   (3.6 vs 4.1 after 8 of 16 epochs, same schedule), batches of 8 for more
#   updates, a higher AdamW lr with a short warm-up, no EMA.
# - Objects down to 16 px: the SSD levels start at the stride-8 map (not 16)
#   with anchors of 16-320 px, and stop at stride 128, since no object is
#   larger than 160 px. The boxes are square unless occluded: aspect ratio 2
#   only. No expand/crop zoom augmentation, which would shrink the smallest
#   objects below the smallest anchor.
_base_ = [
    './_base_/models/ssdlite_edgenext.py',
    './_base_/datasets/coco_detection_ssdlite320.py',
    './_base_/schedules/ssdlite_adamw_cosine.py',
    'mmdet::_base_/default_runtime.py',
]
data_root = 'data/synthetic/det/'
data_preparation = (
    'Make it with: python tools/make_synthetic_data.py --kinds det')
classes = ('circle', 'square', 'triangle')
metainfo = dict(classes=classes,
                palette=[(220, 20, 60), (0, 128, 255), (60, 180, 75)])
input_size = 320
channels = (48, 88, 168, 128, 128)
model = dict(
    backbone=dict(arch='xx_small_bn_hs', out_indices=(1, 2, 3),
                  drop_path_rate=0.,
                  init_cfg=None),  # from scratch: nothing to download
    neck=dict(in_channels=channels[:3], out_channels=channels,
              level_strides=(2, 2), level_paddings=(1, 1)),
    bbox_head=dict(
        in_channels=channels,
        num_classes=len(classes),
        anchor_generator=dict(
            strides=[8, 16, 32, 64, 128],
            ratios=[[2]] * 5,
            min_sizes=[16, 32, 64, 128, 224],
            max_sizes=[32, 64, 128, 224, 320])),
    test_cfg=dict(score_thr=0.05, max_per_img=100))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackDetInputs'),
]
dataset = dict(type='CocoDataset', data_root=data_root, metainfo=metainfo)
train_dataloader = dict(
    batch_size=8,
    num_workers=0,  # decoding is cheap; a worker would contend for 2 cores
    persistent_workers=False,
    dataset=dict(dataset, ann_file='annotations/instances_train.json',
                 data_prefix=dict(img='train/'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(dataset, ann_file='annotations/instances_val.json',
                 data_prefix=dict(img='val/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

max_epochs = 16
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=3e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0,
         end=60),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
]
custom_hooks = []
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=4, max_keep_ckpts=1))
randomness = dict(seed=0)
