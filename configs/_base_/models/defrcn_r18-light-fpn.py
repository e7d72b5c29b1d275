# DeFRCN (Qiao et al., ICCV 2021) on the light CPU model, as its fine-tuning configs set it: the
# features reach the RPN and the RoI head through gradient-decoupled layers (the RPN's gradient
# stopped, the RoI head's scaled by 0.01), the box head's shared fcs frozen (DeFRCN's
# FREEZE_FEAT), mmdet's softmax classifier, novel rows from N(0, 0.01) (surgery 'randinit'), and
# at test time the prototypical calibration of the novel classes' scores (alpha 0.5) with RoI
# features of the detector's own backbone (no ImageNet classifier here; a GPU config names one:
# pcb=dict(extractor=dict(type='ClassifierRoIFeatures', classifier='resnet101',
#                         checkpoint='resnet101-63fe2227.pth'))).
_base_ = ['./faster-rcnn_r18-light-fpn.py', '../fewshot_runtime.py']

fewshot = dict(setting='gfsod', shots=5, seed=0, unselected='keep')
model = dict(
    type='TFA',
    frozen_parameters=['roi_head.bbox_head.shared_fcs'],
    backbone=dict(norm_eval=True),
    rpn_head=dict(type='DecoupledRPNHead', backward_scale=0.0),
    roi_head=dict(type='DecoupledStandardRoIHead', backward_scale=0.01),
    pcb=dict(extractor=dict(type='DetectorRoIFeatures'), alpha=0.5, score_range=(0.05, 1.0),
             calibrated='novel'))
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='FewShotSurgeryHook', checkpoint='', method='randinit'),
]
