# ../fsdet_5shot.py with 5-shot novel data next to every base instance (the all-base-data variant
# of G-FSOD), FewShotBalancedSampler showing novel-class images in half of the draws:
#   python tools/train.py configs/retentive_tfa/retentive-tfa_r50-fpn_mvtec-fs_5shot-allbase.py \
#       --cfg-options fewshot.base_checkpoint=work_dirs/fsdet_base/iter_12000.pth
_base_ = ['../fsdet_5shot.py']

fewshot = dict(base_shots='all')
train_dataloader = dict(
    sampler=dict(_delete_=True, type='FewShotBalancedSampler', novel_ratio=0.5))
