# Pascal VOC 07+12 trainval, VOC07 test (VOC metric), with the ml-cvnets
# SSDLite pipelines.
_base_ = './coco_detection_cvnets320.py'
data_root = 'data/VOCdevkit/'
data_preparation = (
    'Download VOCtrainval_06-Nov-2007, VOCtest_06-Nov-2007 and '
    'VOCtrainval_11-May-2012 and unpack them as data/VOCdevkit/VOC2007 and '
    'data/VOCdevkit/VOC2012, or set the dataset data_root with --cfg-options')
voc = dict(type='VOCDataset', data_root=data_root,
           filter_cfg=dict(filter_empty_gt=True, min_size=32))
train_dataloader = dict(dataset=dict(
    _delete_=True,
    type='ConcatDataset',
    ignore_keys=['dataset_type'],
    datasets=[
        dict(voc, ann_file=f'VOC{year}/ImageSets/Main/trainval.txt',
             data_prefix=dict(sub_data_root=f'VOC{year}/'),
             pipeline={{_base_.train_pipeline}}) for year in (2007, 2012)
    ]))
val_dataloader = dict(dataset=dict(
    _delete_=True, type='VOCDataset', data_root=data_root, test_mode=True,
    ann_file='VOC2007/ImageSets/Main/test.txt',
    data_prefix=dict(sub_data_root='VOC2007/'),
    pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='VOCMetric', metric='mAP',
                     eval_mode='11points')
test_evaluator = val_evaluator
