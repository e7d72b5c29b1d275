# MVTec-FS base training (TFA stage 1): Faster R-CNN R50-FPN on the base classes of a split, with
# all their training instances; evaluated on the base classes of the testing split.
#   python tools/train.py configs/fsdet_base.py
#   python tools/train.py configs/fsdet_base.py --cfg-options fewshot.class_split=split2
_base_ = [
    './_base_/models/faster-rcnn_r50-fpn.py',
    './_base_/datasets/mvtec_fs.py',
    './_base_/schedules/schedule_12k.py',
    './_base_/fewshot_runtime.py',
]

fewshot = dict(setting='base', class_split='split1')
# 49 base classes in split1; FewShotRunner sets it from the dataset for any other split.
model = dict(roi_head=dict(bbox_head=dict(num_classes=49)))
