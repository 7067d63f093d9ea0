# ml-cvnets SSDLite + EdgeFormer-S on COCO 2017 at 320x320 (ParC-Net: 28.8
# mAP, 5.2M). `tools/test.py` with this config evaluates the authors'
# released file as it is: checkpoint name edgeformer_s_ssdlite_coco.
_base_ = [
    './_base_/models/ssdlite_cvnets.py',
    './_base_/datasets/coco_detection_cvnets320.py',
    './_base_/schedules/cvnets_ssd_adamw.py',
    'mmdet::_base_/default_runtime.py',
]
