# The CD-FSOD benchmark's layout (Fu et al., "Cross-Domain Few-Shot Object Detection via Enhanced
# Open-Set Object Detector", ECCV 2024), one folder per target data set, read as it is:
#   <data_root>/annotations/{train,test,1_shot,5_shot,10_shot}.json   COCO files
#   <data_root>/train/   <data_root>/test/                            their images
# The k-shot file is the selection: it is the training set (`shot_file`; fewshot.shots unset,
# every instance of it is trained on). Every class is novel (setting 'fsod'), the test set is
# test.json. Data under data/cdfsod/<name>/ (NEU-DET here; its classes are NEU-DET's six).
# COCO's pipelines and loaders (./coco_fewshot.py) with these files.
_base_ = ['./coco_fewshot.py']

data_root = 'data/cdfsod/NEU-DET/'
classes = ('crazing', 'inclusion', 'patches', 'pitted_surface', 'rolled-in_scale', 'scratches')
shot_file = 'annotations/5_shot.json'

train_dataloader = dict(dataset=dict(
    dataset=dict(data_root=data_root, ann_file=shot_file, data_prefix=dict(img='train/'),
                 metainfo=dict(classes=classes)),
    filter_cfg=dict(min_size=0)))
val_dataloader = dict(dataset=dict(dataset=dict(
    data_root=data_root, ann_file='annotations/test.json', data_prefix=dict(img='test/'),
    metainfo=dict(classes=classes))))
test_dataloader = val_dataloader
val_evaluator = dict(classwise=True)
test_evaluator = val_evaluator
