# EdgeNeXt-xx_small trained from scratch on a synthetic shapes
# classification set (one shape per 96-px image, ImageNet class folders
# data/synthetic/cls_large/{train,val}/<circle|square|triangle>/*.jpg, 200
# and 50 images per class: the default `--kinds cls` set of 40 per class was
# too small to learn from scratch), at 128 px, in minutes on 2 CPU cores:
# trained weights whose int8 agreement with float means something
# (docs/deploy_benchmark.md). The BatchNorm/Hardswish variant:
#   --cfg-options model.backbone.arch=xx_small_bn_hs
_base_ = './edgenext_xx_small_in1k.py'
classes = ('circle', 'square', 'triangle')
data_root = 'data/synthetic/cls_large'
data_preparation = (
    'Make it with: python -c "from mmedgenext.synthetic_data import '
    "write_classification_set as w; w('data/synthetic/cls_large', "
    '200, 50)"')
size = 128
model = dict(
    data_preprocessor=dict(_delete_=True, type='ClsDataPreprocessor',
                           num_classes=len(classes),
                           mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(init_cfg=None),
    head=dict(num_classes=len(classes),
              loss=dict(_delete_=True, type='CrossEntropyLoss')))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=size, crop_ratio_range=(0.6, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(size, size)),
    dict(type='PackInputs'),
]
dataset = dict(_delete_=True, type='CustomDataset', data_root=data_root,
               classes=classes)
train_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False,
    dataset=dict(dataset, data_prefix='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=50, num_workers=0, persistent_workers=False,
    dataset=dict(dataset, data_prefix='val', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
max_epochs = 30
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0,
         end=40),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(checkpoint=dict(interval=max_epochs, max_keep_ckpts=1),
                     logger=dict(interval=10))
custom_hooks = []
randomness = dict(seed=0)
