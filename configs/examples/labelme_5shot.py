# 5-shot fine-tuning on your own labelme data: a folder tree of labelme JSON files for training
# and one for testing, four classes, 'crack' novel. Start from a base checkpoint trained with the
# same config and fewshot.setting='base'.
#   python tools/train.py configs/examples/labelme_5shot.py --cfg-options fewshot.setting=base
#   python tools/train.py configs/examples/labelme_5shot.py \
#       --cfg-options fewshot.base_checkpoint=work_dirs/labelme_5shot_base/iter_12000.pth
# Any mmdet dataset works the same way inside FewShotDataset: dataset=dict(type='CocoDataset',
# ann_file=..., data_prefix=dict(img=...), metainfo=dict(classes=classes)).
_base_ = ['../fsdet_5shot.py']

data_root = 'data/my_parts/'
classes = ('scratch', 'dent', 'stain', 'crack')
fewshot = dict(class_split=dict(_delete_=True, novel=['crack']))
# the label space of the G-FSOD setting: every class (FewShotRunner checks it)
model = dict(roi_head=dict(bbox_head=dict(num_classes=len(classes))))

train_dataloader = dict(dataset=dict(dataset=dict(
    type='LabelmeDataset', _delete_=True, data_root=data_root, ann_file='train/',
    metainfo=dict(classes=classes))))
val_dataloader = dict(dataset=dict(dataset=dict(
    type='LabelmeDataset', _delete_=True, data_root=data_root, ann_file='test/',
    metainfo=dict(classes=classes), test_mode=True)))
test_dataloader = val_dataloader
