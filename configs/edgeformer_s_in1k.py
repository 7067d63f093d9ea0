# EdgeFormer-S on ImageNet-1k (ParC-Net: 78.6 top-1, 5.0M, 1.74G MAdds at
# 256). `tools/test.py` with this config evaluates the authors' released file
# as it is (checkpoint name edgeformer_s). ml-cvnets' input convention: BGR in
# [0, 1], no mean/std; evaluation: cv2 bilinear short side 288, centre 256.
_base_ = [
    './_base_/datasets/imagenet_edgenext.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    # The sizes ml-cvnets' variable-batch sampler draws with the yaml's
    # settings (5 sizes from 160 to 320, rounded to multiples of 32, and
    # 256); its batch shrinks with the size, here it stays fixed.
    data_preprocessor=dict(
        type='mmedgenext.MultiScaleClsDataPreprocessor',
        scales=(160, 192, 256, 288, 320),
        num_classes=1000,
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        to_rgb=False),
    backbone=dict(type='mmedgenext.EdgeFormer', arch='s', out_indices=(4, ),
                  final_conv=True),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='mmedgenext.DropoutLinearClsHead',
        dropout=0.2,  # ml-cvnets' classifier_dropout
        num_classes=1000,
        in_channels=640,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                  mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=320, backend='cv2',
         interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=288, edge='short', backend='cv2',
         interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=256),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# config/classification/edgeformer/edgeformer_s.yaml: AdamW wd 0.025 (on
# every weight), 3000 warm-up iterations from 4e-4, cosine 4e-3 -> 4e-4, 300
# epochs at batch 128 x 8 GPUs, label smoothing 0.1, EMA 0.0005; classifier
# dropout 0.2 (in the head above).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=4e-3, betas=(0.9, 0.999),
                   weight_decay=0.025))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=3000),
    dict(type='CosineAnnealingLR', eta_min=4e-4, by_epoch=True, begin=0,
         end=300, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
custom_hooks = [dict(type='EMAHook', momentum=5e-4, priority='ABOVE_NORMAL')]
