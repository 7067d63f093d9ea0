# ml-cvnets' SSD recipe (ParC-Net config/detection/edgeformer/
# ssd_edgeformer_s.yaml): AdamW (wd 0.02, decay on every weight), 200
# epochs, 500 warm-up iterations from 9e-5, cosine from 9e-4 to 1e-6, batch
# 32 x 4 GPUs, EMA 0.0005.
_base_ = './ssdlite_adamw_cosine.py'
optim_wrapper = dict(optimizer=dict(lr=9e-4, weight_decay=0.02),
                     paramwise_cfg=dict(_delete_=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=0,
         end={{_base_.max_epochs}}, convert_to_iter_based=True),
]
