"""The data layer of mmfs_plugin, pure Python (no torch, no mmdet): annotation formats
(:mod:`.formats`), the few-shot protocol over ``data_list`` entries (:mod:`.fewshot`), the
synthetic MVTec-FS generator (:mod:`.synthetic`), ``FieldError`` and atomic writes."""
