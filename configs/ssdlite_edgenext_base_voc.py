# SSDLite-EdgeNeXt-base on Pascal VOC 07+12 (test: VOC07, VOC mAP), 320x320.
_base_ = './ssdlite_edgenext_small_voc.py'
model = dict(
    backbone=dict(arch='base', drop_path_rate=0.1,
                  init_cfg=dict(type='Pretrained',
                                checkpoint='edgenext_base')),
    neck=dict(in_channels=(288, 584),
              out_channels=(288, 584, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(288, 584, 512, 256, 256, 128)))
