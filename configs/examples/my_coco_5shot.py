# Your own COCO data in one file: ../fsdet_5shot.py (the plugin's recipe on R50-FPN, 5 shots of
# every class) with your images, classes and novel classes.
#   python tools/train.py configs/examples/my_coco_5shot.py \
#       --cfg-options fewshot.base_checkpoint=work_dirs/my_coco_base/iter_12000.pth
# Step 1, base training on the base classes, is ./my_coco_base.py; its model is the frozen base
# branch (`base_detector`). For the light CPU model inherit ../demo/demo_base.py and
# ../demo/demo_5shot.py instead (the demo's 128 px, batch and schedule come with them).
_base_ = ['../fsdet_5shot.py']

data_root = 'data/my_parts/'
classes = ('scratch', 'dent', 'stain', 'crack')
fewshot = dict(class_split=dict(_delete_=True, novel=['crack']),
               base_checkpoint='work_dirs/my_coco_base/iter_12000.pth')
model = dict(roi_head=dict(bbox_head=dict(num_classes=len(classes))),  # every class (G-FSOD)
             base_detector='{{ fileDirname }}/my_coco_base.py')  # step 1's model, frozen
train_dataloader = dict(dataset=dict(dataset=dict(
    _delete_=True, type='CocoDataset', data_root=data_root, ann_file='train.json',
    data_prefix=dict(img='images/'), metainfo=dict(classes=classes))))
val_dataloader = dict(dataset=dict(dataset=dict(
    _delete_=True, type='CocoDataset', data_root=data_root, ann_file='test.json',
    data_prefix=dict(img='images/'), metainfo=dict(classes=classes), test_mode=True)))
test_dataloader = val_dataloader
