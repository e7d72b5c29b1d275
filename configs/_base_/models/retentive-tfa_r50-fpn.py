# The plugin's default fine-tuning recipe, Retentive TFA w/ cos, on Faster R-CNN R50-FPN:
# TFA w/ cos (./tfa_r50-fpn.py: base rows copied by class name, a cosine classifier of scale
# 20) with every layer fine-tuned, beside a frozen copy of the base detector whose base-class
# detections are kept (RetentiveTFA, after Fan et al., CVPR 2021): the base classes keep the
# base model's AP exactly, the novel classes come from the fine-tuned detector. The images of
# the selected instances are used with all their boxes (`unselected='keep'`). Chosen on NEU-DET
# (configs/retentive_tfa/README.md, docs/results.md).
_base_ = ['./tfa_r50-fpn.py']

fewshot = dict(unselected='keep')
# base_detector: each config names its base training config (its model is the frozen branch)
model = dict(type='RetentiveTFA', frozen_parameters=[])
