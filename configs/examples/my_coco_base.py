# Step 1 on your own COCO data: base training on the base classes (every instance), the data of
# ./my_coco_5shot.py over ../fsdet_base.py.
#   python tools/train.py configs/examples/my_coco_base.py
_base_ = ['../fsdet_base.py']

classes = ('scratch', 'dent', 'stain', 'crack')
fewshot = dict(class_split=dict(_delete_=True, novel=['crack']))
model = dict(roi_head=dict(bbox_head=dict(num_classes=3)))  # the base classes
coco = dict(type='CocoDataset', data_root='data/my_parts/', data_prefix=dict(img='images/'),
            metainfo=dict(classes=classes))
train_dataloader = dict(dataset=dict(dataset=dict(coco, _delete_=True, ann_file='train.json')))
val_dataloader = dict(dataset=dict(dataset=dict(coco, _delete_=True, ann_file='test.json',
                                                test_mode=True)))
test_dataloader = val_dataloader
