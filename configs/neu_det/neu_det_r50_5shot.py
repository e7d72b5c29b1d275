# The GPU variant of neu_det_5shot.py, from neu_det_r50_base.py's checkpoint:
#   tools/dist_train.sh configs/neu_det/neu_det_r50_5shot.py 1 \
#       --cfg-options fewshot.base_checkpoint=work_dirs/neu_det/r50_base/iter_3000.pth
_base_ = ['./neu_det_5shot.py']

fewshot = dict(base_checkpoint='work_dirs/neu_det/r50_base/iter_3000.pth')
model = {{_base_.neu_r50_model}}  # every weight comes from the base checkpoint
env_cfg = dict(dist_cfg=dict(backend='nccl'))
