# Evaluating the authors' USI-distilled edgenext_small_usi.pth: their
# evaluation uses crop_pct 0.95 (a 269 short side, then the 256 crop).
_base_ = './edgenext_small_in1k.py'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=269, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=256),
    dict(type='PackInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
