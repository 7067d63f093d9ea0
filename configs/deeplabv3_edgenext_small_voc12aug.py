# DeepLabv3 + EdgeNeXt-S on Pascal VOC 2012 with the SBD augmented set
# (10,582 training images, 21 classes, 512x512 crops). The paper reports
# 80.2 mIoU for this pairing (trained in ml-cvnets with extra COCO data).
# Data: data/VOCdevkit/VOC2012 with SegmentationClassAug, prepared by
# mmseg's tools/dataset_converters/voc_aug.py.
_base_ = [
    './_base_/datasets/pascal_voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    './_base_/models/deeplabv3_edgenext.py',
    './_base_/schedules/deeplabv3_adamw_cosine.py',
]
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(batch_size=4)
