# DeFRCN's parts apart (docs/results.md, the ablation table): the plugin's recipe
# (../../retentive_tfa/retentive-tfa_r18-light-fpn_neu-det_5shot.py, nothing else changed in
# training) with DeFRCN's prototypical calibration of the novel classes' scores at test time,
# the features from the frozen base branch, as ../retentive-defrcn_r18-light-fpn_neu-det_5shot.py
# sets it. Tested on the recipe's own trained models:
#   python tools/fewshot/run_seeds.py configs/defrcn/ablations/retentive-tfa-pcb_r18-light-fpn_neu-det_5shot.py \
#       --shots 5 --seeds 0-2 --val --work-dir work_dirs/neu_det/table/recipe_pcb \
#       --checkpoints 'work_dirs/neu_det/table/recipe/{shots}shot_seed{seed}/iter_400.pth'
_base_ = ['../../retentive_tfa/retentive-tfa_r18-light-fpn_neu-det_5shot.py']

model = dict(
    pcb=dict(extractor=dict(type='DetectorRoIFeatures', use_base_detector=True), alpha=0.5,
             score_range=(0.05, 1.0), calibrated='novel'))
