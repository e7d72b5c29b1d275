# DeFRCN's parts apart (docs/results.md, the ablation table): DeFRCN's fine-tuning
# (../defrcn_r18-light-fpn_neu-det_5shot.py: the gradient-decoupled RPN and RoI head, the frozen
# fcs, novel rows from N(0, 0.01)) without the prototypical calibration. Tested on DeFRCN's own
# trained models (the calibration has no weights: training is the same):
#   python tools/fewshot/run_seeds.py configs/defrcn/ablations/defrcn-no-pcb_r18-light-fpn_neu-det_5shot.py \
#       --shots 5 --seeds 0-2 --val --work-dir work_dirs/neu_det/table/defrcn_no_pcb \
#       --checkpoints 'work_dirs/neu_det/table/defrcn/{shots}shot_seed{seed}/iter_400.pth'
_base_ = ['../defrcn_r18-light-fpn_neu-det_5shot.py']

model = dict(pcb=None)
