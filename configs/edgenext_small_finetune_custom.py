# Fine-tuning EdgeNeXt-S, from the authors' ImageNet weights, on your own
# images in class folders (mmpretrain's CustomDataset):
#   data/custom/train/<class name>/*.jpg
#   data/custom/val/<class name>/*.jpg
# Set num_classes to your number of classes, then
#   python tools/train.py configs/edgenext_small_finetune_custom.py
_base_ = './edgenext_small_in1k.py'
num_classes = 10
data_root = 'data/custom'
model = dict(
    data_preprocessor=dict(num_classes=num_classes),
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='edgenext_small')),
    head=dict(num_classes=num_classes))
train_dataloader = dict(
    batch_size=64,
    dataset=dict(_delete_=True, type='CustomDataset', data_root=data_root,
                 data_prefix='train',
                 pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    batch_size=64,
    dataset=dict(_delete_=True, type='CustomDataset', data_root=data_root,
                 data_prefix='val', pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
# A short, gentle schedule: AdamW at 5e-4 for a batch of 64, 5 warm-up
# epochs, cosine over 30.
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=5,
         end=30, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=30)
auto_scale_lr = dict(base_batch_size=64)
