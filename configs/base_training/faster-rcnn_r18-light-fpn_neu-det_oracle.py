# The full-data oracle on NEU-DET: the base training of
# faster-rcnn_r18-light-fpn_neu-det_base.py (the same light model from scratch at 200 px, the
# same 3000-iteration schedule) on every training image of all six classes, base and novel.
# Its novel-class AP50 is the ceiling the few-shot rows are read against (docs/results.md):
#   python tools/train.py configs/base_training/faster-rcnn_r18-light-fpn_neu-det_oracle.py \
#       --work-dir work_dirs/neu_det/oracle
_base_ = ['./faster-rcnn_r18-light-fpn_neu-det_base.py']

fewshot = dict(_delete_=True, setting='gfsod', class_split=dict(novel=_base_.novel_classes))
model = dict(roi_head=dict(bbox_head=dict(num_classes=6)))
