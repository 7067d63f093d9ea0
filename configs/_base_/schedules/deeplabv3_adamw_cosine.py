# ml-cvnets' DeepLabv3 schedule (the MobileViT-S yaml,
# config/segmentation/mobilevit/deeplabv3_mobilevit_small.yaml in ParC-Net):
# AdamW with weight decay 0.01, cosine decay from 9e-4 to 1e-6, the head at
# 10x the backbone's rate.
# The EdgeNeXt authors note that downstream tasks prefer a slightly lower
# rate than usual (reference repo issues #5, #9), which 9e-4 already is for
# AdamW. No decay on norms, biases, layer scales and attention temperatures.
# 33k iterations at batch 16 are the recipe's 50 epochs of VOC aug (10,582
# images); other datasets override train_cfg, param_scheduler and the
# checkpoint interval. The rate is for a batch of 16 (e.g. 4 GPUs x 4
# images) and scales with --auto-scale-lr.
max_iters = 33000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=9e-4, betas=(0.9, 0.999),
                   weight_decay=0.01),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        custom_keys={
            'decode_head': dict(lr_mult=10.),
            'auxiliary_head': dict(lr_mult=10.),
            '.gamma': dict(decay_mult=0.),
            'temperature': dict(decay_mult=0.),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=False, begin=500,
         end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters // 10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=16)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=max_iters // 10, max_keep_ckpts=2,
                    save_best='mIoU'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
