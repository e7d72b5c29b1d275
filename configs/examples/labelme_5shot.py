# Step 2 on your own labelme data: 5-shot fine-tuning of every class from step 1's checkpoint
# (labelme_base.py), with the plugin's recipe.
#   python tools/train.py configs/examples/labelme_5shot.py \
#       --cfg-options fewshot.base_checkpoint=work_dirs/labelme_base/iter_12000.pth
# Any mmdet dataset works the same way inside FewShotDataset: dataset=dict(type='CocoDataset',
# ann_file=..., data_prefix=dict(img=...), metainfo=dict(classes=...)).
_base_ = ['../fsdet_5shot.py', './_base_/my_parts.py']

fewshot = dict(class_split=dict(_delete_=True, novel={{_base_.my_novel}}),
               base_checkpoint='work_dirs/labelme_base/iter_12000.pth')
# the label space of the G-FSOD setting: every class (FewShotRunner checks it)
model = dict(roi_head=dict(bbox_head=dict(num_classes=4)))
train_dataloader = dict(dataset=dict(dataset={{_base_.my_train}}))
val_dataloader = dict(dataset=dict(dataset={{_base_.my_val}}))
test_dataloader = dict(dataset=dict(dataset={{_base_.my_test}}))
