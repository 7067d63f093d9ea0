# SSDLite-EdgeNeXt-xx_small on Pascal VOC 07+12 (test: VOC07, VOC mAP),
# 320x320.
_base_ = './ssdlite_edgenext_small_voc.py'
model = dict(
    backbone=dict(arch='xx_small', drop_path_rate=0.0,
                  init_cfg=dict(type='Pretrained',
                                checkpoint='edgenext_xx_small')),
    neck=dict(in_channels=(88, 168),
              out_channels=(88, 168, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(88, 168, 512, 256, 256, 128)))
