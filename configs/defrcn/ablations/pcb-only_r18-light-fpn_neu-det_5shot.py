# DeFRCN's parts apart (docs/results.md, the ablation table): the plain anchor
# (../../finetune/finetune_r18-light-fpn_neu-det_5shot.py, nothing else changed in training)
# with DeFRCN's prototypical calibration at test time, as ../defrcn_r18-light-fpn_neu-det_5shot.py
# sets it. Tested on the plain anchor's own trained models:
#   python tools/fewshot/run_seeds.py configs/defrcn/ablations/pcb-only_r18-light-fpn_neu-det_5shot.py \
#       --shots 5 --seeds 0-2 --val --work-dir work_dirs/neu_det/table/pcb_only \
#       --checkpoints 'work_dirs/neu_det/table/plain/{shots}shot_seed{seed}/iter_400.pth'
_base_ = ['../../finetune/finetune_r18-light-fpn_neu-det_5shot.py']

model = dict(
    type='TFA',
    pcb=dict(extractor=dict(type='DetectorRoIFeatures'), alpha=0.5, score_range=(0.05, 1.0),
             calibrated='novel'))
