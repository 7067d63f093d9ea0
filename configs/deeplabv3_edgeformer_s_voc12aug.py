# ml-cvnets DeepLabv3 + EdgeFormer-S on Pascal VOC 2012 aug at 512x512
# (ParC-Net: 79.7 mIoU, 5.8M; trained with extra COCO data), as ParC-Net's
# config/segmentation/edgeformer/deeplabv3_edgeformer_s.yaml. Output stride 16
# as the authors build it (layer_5 keeps the resolution, no dilation); ASPP
# 256 channels, rates 6/12/18, ml-cvnets' branch order and dropouts. Input
# BGR in [0, 1], no mean/std, as ml-cvnets. `tools/test.py` with this config
# evaluates the authors' released file as it is (edgeformer_s_deeplabv3_voc).
_base_ = [
    './_base_/datasets/pascal_voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    './_base_/schedules/deeplabv3_adamw_cosine.py',
]
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(
    # ml-cvnets' evaluation: logits nearest-resized to the original image
    type='mmedgenext.NearestResizeEncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=False,
        size=crop_size,
        pad_val=0,
        seg_pad_val=255),
    backbone=dict(
        type='mmedgenext.EdgeFormer',
        arch='s',
        out_indices=(4, ),
        output_stride=16,
        init_cfg=dict(type='Pretrained', checkpoint='edgeformer_s',
                      prefix='backbone.')),
    decode_head=dict(
        type='mmedgenext.CvnetsASPPHead',
        in_channels=160,
        in_index=0,
        channels=256,
        dilations=(6, 12, 18),
        aspp_dropout=0.1,
        dropout_ratio=0.1,
        num_classes=21,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# ml-cvnets' augmentation (short side 384-768, 512 crops padded with 255,
# flips: the preprocessor pads crops to 512x512); square 512x512 evaluation,
# as its --resize-input-images.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    dataset=dict(datasets=[
        dict(type='PascalVOCDataset', data_root='data/VOCdevkit/VOC2012',
             data_prefix=dict(img_path='JPEGImages',
                              seg_map_path=f'SegmentationClass{aug}'),
             ann_file=f'ImageSets/Segmentation/{split}.txt',
             pipeline=train_pipeline)
        for aug, split in (('', 'train'), ('Aug', 'aug'))
    ]))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# ml-cvnets' yaml: AdamW wd 0.01, 500 warm-up iterations from 9e-5, cosine
# 9e-4 -> 1e-6, head lr x10, 50 epochs at batch 8 x 4 GPUs (16.5k iters of
# VOC aug), EMA 0.0005.
max_iters = 16550
optim_wrapper = dict(paramwise_cfg=dict(norm_decay_mult=1.,
                                        bias_decay_mult=1.))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=False, begin=0,
         end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 10)
default_hooks = dict(checkpoint=dict(interval=max_iters // 10))
custom_hooks = [dict(type='EMAHook', momentum=5e-4, priority=49)]
auto_scale_lr = dict(base_batch_size=32)
