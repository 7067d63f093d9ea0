# The reference ImageNet classifier: EdgeNeXt's pooled, normalised features
# and one Linear layer, trained with label smoothing 0.1 and the reference
# multi-scale schedule of input sizes (mmedgenext.MultiScaleClsDataPreprocessor
# drawing the sizes of the authors' --multi_scale_sampler for their 256 input).
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='mmedgenext.MultiScaleClsDataPreprocessor',
        scales=(160, 192, 256, 288, 320),
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='mmedgenext.EdgeNeXt',
        arch='small',
        out_indices=(3, ),
        gap_before_final_norm=True,
        drop_path_rate=0.1),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=304,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                  mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)))
