"""The few-shot protocol as pure steps over mmdet ``data_list`` entries.

Class names and categories (:mod:`.classes`), base/novel splits (:mod:`.splits`), the label
space of a setting (:mod:`.label_space`), the k-shot rule and selection files (:mod:`.kshot`),
TFA's few-shot files (:mod:`.tfa_files`) and the step that applies a selection and the
``unselected`` policy to entries (:mod:`.protocol`). Nothing here imports torch or mmdet.
"""
