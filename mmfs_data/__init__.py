"""mmfs_data: the data layer of mmfs_plugin, pure Python (no torch, no mmdet).

Parsing per annotation format (:mod:`.formats`), the few-shot protocol over mmdet
``data_list`` entries (:mod:`.fewshot`), the synthetic MVTec-FS-shaped generator
(:mod:`.synthetic`), ``FieldError`` (:mod:`.errors`) and atomic writes (:mod:`.fileio`).
``import mmfs_plugin`` registers the mmdet classes built on it.
"""
