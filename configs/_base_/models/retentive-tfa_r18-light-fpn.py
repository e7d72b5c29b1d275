# The plugin's default recipe (./retentive-tfa_r50-fpn.py) on the light CPU model.
_base_ = ['./tfa_r18-light-fpn.py']

fewshot = dict(unselected='keep')
model = dict(type='RetentiveTFA', frozen_parameters=[],
             base_bbox_head=dict(type='Shared2FCBBoxHead', scale=None))
