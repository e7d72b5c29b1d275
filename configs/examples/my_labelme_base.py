# ./my_coco_base.py for labelme files: one JSON per image (the image beside it) under
# data/my_parts/train/ and data/my_parts/test/.
_base_ = ['./my_coco_base.py']

train_dataloader = dict(dataset=dict(dataset=dict(type='LabelmeDataset', ann_file='train/')))
val_dataloader = dict(dataset=dict(dataset=dict(type='LabelmeDataset', ann_file='test/')))
test_dataloader = val_dataloader
