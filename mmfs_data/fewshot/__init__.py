"""The few-shot protocol as pure steps over mmdet ``data_list`` entries: class names, base/novel
splits, label spaces, the k-shot rule, selection and TFA files, the ``unselected`` policy."""
