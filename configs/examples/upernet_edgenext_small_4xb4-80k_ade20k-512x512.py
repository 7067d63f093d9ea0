# UPerNet on EdgeNeXt-S, on mmseg's own base config. mmseg's EncoderDecoder
# hands `model.pretrained` to the backbone; EdgeNeXt takes it as mmseg's
# backbones do (a path, URL or model-zoo name; deprecated in favour of
# init_cfg, with a warning).
_base_ = 'mmseg::upernet/upernet_r50_4xb4-80k_ade20k-512x512.py'
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
model = dict(
    pretrained='edgenext_small',
    backbone=dict(
        _delete_=True,
        type='mmedgenext.EdgeNeXt',
        arch='small',
        out_indices=(0, 1, 2, 3),  # 48, 96, 160, 304 channels
        drop_path_rate=0.1),
    decode_head=dict(in_channels=[48, 96, 160, 304]),
    auxiliary_head=dict(in_channels=160))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.,
                       custom_keys={'gamma': dict(decay_mult=0.)}))
