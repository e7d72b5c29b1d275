# Step 1 on your own labelme data: base training on the base classes (every instance), here
# Faster R-CNN R50-FPN on a GPU (for the light CPU model inherit ../demo/demo_base.py instead).
#   python tools/train.py configs/examples/labelme_base.py
# Edit _base_/my_parts.py for your folders, classes and novel classes.
_base_ = ['../fsdet_base.py', './_base_/my_parts.py']

fewshot = dict(class_split=dict(_delete_=True, novel={{_base_.my_novel}}))
model = dict(roi_head=dict(bbox_head=dict(num_classes=3)))  # the base classes
train_dataloader = dict(dataset=dict(dataset={{_base_.my_train}}))
val_dataloader = dict(dataset=dict(dataset={{_base_.my_val}}))
test_dataloader = dict(dataset=dict(dataset={{_base_.my_test}}))
