# Choosing NEU-DET's base model without the test images (issue 20, item 2): the shipped base
# training (../faster-rcnn_r18-light-fpn_neu-det_base.py) on the train split only (1152 images),
# scored on val (288 images of the base classes' trainval, never seen here) every 1000
# iterations. Each variant in this folder differs from it in one named respect; the one with the
# best val bAP50 becomes the base config, which then trains on trainval (docs/results.md).
#   python tools/train.py \
#       configs/base_training/base_model_study/faster-rcnn_r18-light-fpn_neu-det_base-train.py \
#       --work-dir work_dirs/neu_det/base_study/gn
_base_ = ['../faster-rcnn_r18-light-fpn_neu-det_base.py']

train_dataloader = dict(dataset=dict(dataset=dict(ann_file=_base_.splits + 'train.txt')))
