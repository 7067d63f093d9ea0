# SSDLite-EdgeNeXt-x_small on Pascal VOC 07+12 (test: VOC07, VOC mAP), 320x320.
_base_ = './ssdlite_edgenext_small_voc.py'
model = dict(
    backbone=dict(arch='x_small', drop_path_rate=0.0,
                  init_cfg=dict(type='Pretrained',
                                checkpoint='edgenext_x_small')),
    neck=dict(in_channels=(100, 192),
              out_channels=(100, 192, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(100, 192, 512, 256, 256, 128)))
