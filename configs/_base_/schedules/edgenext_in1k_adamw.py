# The reference schedule (the authors' main.py and README):
# AdamW, lr 6e-3 for a batch of 4096 (8 GPUs x 512 here; --auto-scale-lr
# scales it to other batches), weight decay 0.05 except on norms, biases and
# the 1-D layer scales, 20 linear warm-up epochs from ~0, cosine to 1e-6 at
# epoch 300, EMA of the weights with decay 0.9995 (evaluated, as the
# authors' published accuracies are of their EMA weights).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-3, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.,
                       flat_decay_mult=0.))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0, end=20,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=20,
         end=300, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=4096)
custom_hooks = [dict(type='EMAHook', momentum=5e-4, priority='ABOVE_NORMAL')]
