# Faster R-CNN R50-FPN (mmdet's defaults) with ignore regions honoured by both assigners:
# an anchor or proposal covered by an ignore region (iof > 0.5) is neither positive nor
# negative. ImageNet-pretrained backbone through mmdet's init_cfg; for a COCO-pretrained
# detector set `load_from`.
_base_ = ['mmdet::_base_/models/faster-rcnn_r50_fpn.py']

model = dict(
    train_cfg=dict(
        rpn=dict(assigner=dict(ignore_iof_thr=0.5)),
        rcnn=dict(assigner=dict(ignore_iof_thr=0.5))))
