# The plugin's default few-shot fine-tuning recipe, used by every shipped fine-tuning config
# (configs/fsdet_<k>shot.py through configs/_base_/fsdet_finetune.py, the demo, NEU-DET through
# configs/neu_det/_base_/neu_det_finetune.py), so it is stated once.
#
# Retentive TFA w/ cos: TFA w/ cos (./recipes/tfa_cos.py: base rows of the classifier and box
# regressor copied by class name, a cosine classifier of scale 20) with every layer fine-tuned,
# beside a frozen copy of the base detector whose base-class detections are kept
# (RetentiveTFA, after Fan et al., CVPR 2021): the base classes keep the base model's AP exactly,
# the novel classes come from the fine-tuned detector. The images of the selected instances are
# used with all their boxes (`unselected='keep'`). Chosen on real defects (NEU-DET, 5 shots,
# docs/results.md): TFA w/ cos as published (frozen up to the last layers) learnt nearly
# nothing of the novel classes (nAP50 about 5) and lost about 5 points of bAP50; plain
# fine-tuning of every layer learnt the novel classes and lost about 15 points of bAP50; this
# recipe learns them better than plain fine-tuning and keeps bAP50.
_base_ = ['./recipes/tfa_cos.py']

fewshot = dict(unselected='keep')
model = dict(
    type='RetentiveTFA',
    frozen_parameters=[],
    # the base detector's own box head (mmdet's, trained in base training)
    base_bbox_head=dict(type='Shared2FCBBoxHead', scale=None))
