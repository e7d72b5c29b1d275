# DeFRCN's two parts with the plugin's recipe, at 5 shots on NEU-DET (docs/results.md): the
# recipe (../retentive_tfa/retentive-tfa_r18-light-fpn_neu-det_5shot.py: the frozen base branch,
# every layer trained, the cosine classifier, the augmented shots) with DeFRCN's
# gradient-decoupled RPN and RoI head and its prototypical calibration of the novel classes'
# scores (RoI features of the base branch's backbone):
#   python tools/train.py configs/defrcn/retentive-defrcn_r18-light-fpn_neu-det_5shot.py \
#       --cfg-options fewshot.seed=1
_base_ = ['../retentive_tfa/retentive-tfa_r18-light-fpn_neu-det_5shot.py']

model = dict(
    rpn_head=dict(type='DecoupledRPNHead', backward_scale=0.0),
    roi_head=dict(type='DecoupledStandardRoIHead', backward_scale=0.01),
    pcb=dict(extractor=dict(type='DetectorRoIFeatures', use_base_detector=True), alpha=0.5,
             score_range=(0.05, 1.0), calibrated='novel'))
