# Few shots on a detector trained elsewhere, every class novel, on CPU (issue 21's measurement,
# docs/results.md): the NEU-DET base detector (trained on crazing, inclusion, patches and
# rolled-in_scale) fine-tuned on 5 shots of the two classes it never saw (pitted_surface,
# scratches; setting 'fsod': the label space is these two), every layer, every weight of the
# base checkpoint kept but the classifier and box regressor (mmdet's own init: surgery
# 'remove', as `load_from` loads it). Beside it, the same light model trained from scratch on
# the same shots: ./faster-rcnn-scratch_r18-light-fpn_neu-det-novel_5shot.py.
#   python tools/fewshot/run_seeds.py \
#       configs/finetune/finetune_r18-light-fpn_neu-det-novel_5shot.py \
#       --shots 5 --seeds 0-4 --val --work-dir work_dirs/neu_det/novel_only/pretrained
_base_ = ['./finetune_r18-light-fpn_neu-det_5shot.py']

fewshot = dict(setting='fsod')
# Gradients clipped at norm 35 (mmdet's usual max_norm): without it, at lr 0.02 the loss of
# this config became NaN on the shots of seed 0 (training loss only; docs/results.md). The
# from-scratch config beside it inherits the same.
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
model = dict(roi_head=dict(bbox_head=dict(num_classes=2)))  # the two novel classes
