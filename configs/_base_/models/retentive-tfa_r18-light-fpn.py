# The plugin's default recipe (./retentive-tfa_r50-fpn.py) on the light CPU model.
_base_ = ['./tfa_r18-light-fpn.py']

fewshot = dict(unselected='keep')
# base_detector: each config names its base training config (its model is the frozen branch)
model = dict(type='RetentiveTFA', frozen_parameters=[])
