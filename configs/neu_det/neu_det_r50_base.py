# The GPU variant of neu_det_base.py: R50-FPN with an ImageNet backbone (neu_r50_model in
# _base_/neu_det.py), batch 8, NCCL:
#   tools/dist_train.sh configs/neu_det/neu_det_r50_base.py 1 --work-dir work_dirs/neu_det/r50_base
_base_ = ['./neu_det_base.py']

model = {{_base_.neu_r50_base_model}}
train_dataloader = dict(batch_size=8, num_workers=4, persistent_workers=True)
val_dataloader = dict(num_workers=2, persistent_workers=True)
test_dataloader = val_dataloader
env_cfg = dict(dist_cfg=dict(backend='nccl'))
