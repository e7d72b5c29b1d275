# The recipe with a shared backbone (as Retentive R-CNN shares it), at 5 shots on NEU-DET
# (docs/results.md, docs/benchmarks.md): the backbone and neck frozen in fine-tuning (a batch-norm
# backbone's statistics included), so they stay the base detector's, and at test time they run once for
# both branches: one backbone pass instead of two.
_base_ = ['../retentive-tfa_r18-light-fpn_neu-det_5shot.py']

model = dict(frozen_parameters=['backbone', 'neck'], share='backbone',
             backbone=dict(norm_eval=True))
