# The plugin's default few-shot fine-tuning recipe, used by every shipped fine-tuning config
# (configs/fsdet_<k>shot.py through configs/_base_/fsdet_finetune.py, the demo, NEU-DET through
# configs/neu_det/_base_/neu_det_finetune.py), so it is stated once. See docs/results.md for how
# it was chosen on real defects.
_base_ = ['./recipes/tfa_cos.py']
