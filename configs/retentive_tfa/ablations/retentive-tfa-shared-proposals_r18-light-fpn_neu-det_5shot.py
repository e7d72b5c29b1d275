# The recipe with the backbone, neck and RPN shared (Retentive R-CNN's test-time layout), at 5
# shots on NEU-DET (docs/results.md, docs/benchmarks.md): they are frozen in fine-tuning, so they
# stay the base detector's, only the RoI head (shared fcs, cosine classifier, box regressor)
# trains, and at test time the backbone, the RPN and the RoI pooling run once: only the two box
# heads run twice.
_base_ = ['../retentive-tfa_r18-light-fpn_neu-det_5shot.py']

model = dict(frozen_parameters=['backbone', 'neck', 'rpn_head'], share='proposals',
             backbone=dict(norm_eval=True))
