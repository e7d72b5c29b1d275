"""Few shots on a detector trained elsewhere, every class novel: a CD-FSOD-layout tree (train,
test and shot files) is read as it is, the shot file being the training set; fine-tuning from a
checkpoint of another label space (named or not) keeps every weight but the new classes' rows,
and the recipe's retention branch is off."""
import json
import shutil
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import RUNNERS

from mmdet.registry import MODELS
from mmfs_plugin.engine import SurgeryError, apply_fewshot_settings, load_surgery_source

from .tiny_coco import ANN_FILE, IMAGE_FOLDER, make_tiny_coco

ROOT = Path(__file__).resolve().parents[1]
R50_MODEL = ROOT / 'configs' / '_base_' / 'models' / 'faster-rcnn_r50-fpn.py'
SOURCE_CLASSES = ('square', 'dent')  # the label space the source detector was trained on
CLASSES = ('dent', 'crack')  # the user's, every one novel (a 'dent' of another data set too)

MODEL = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=32),
    rpn_head=dict(in_channels=32, feat_channels=32),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=32),
                  bbox_head=dict(in_channels=32, fc_out_channels=64, num_classes=2)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=100, max_per_img=50),
                   rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=100, max_per_img=50)))
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(64, 64), keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                          'scale_factor', 'instances')),
]


def small_r50_model():
    """The model config of ``R50_MODEL`` made small (``MODEL``)."""
    cfg = Config.fromfile(R50_MODEL)
    cfg.merge_from_dict(dict(model=MODEL))
    return cfg.model


def cdfsod_tree(root: Path) -> Path:
    """A miniature of one CD-FSOD target data set: annotations/{train,test,1_shot}.json and
    the train/ and test/ image folders (images 1-4 train, 5-6 test)."""
    source = root / 'generated'
    make_tiny_coco(source, num_images=6)
    coco = json.loads((source / ANN_FILE).read_text())
    categories = [dict(id=1, name=CLASSES[0]), dict(id=2, name=CLASSES[1])]
    tree = root / 'NEU-DET'
    (tree / 'annotations').mkdir(parents=True)

    def write(name, folder, image_ids):
        images = [image for image in coco['images'] if image['id'] in image_ids]
        (tree / folder).mkdir(exist_ok=True)
        for image in images:
            shutil.copy(source / IMAGE_FOLDER / image['file_name'], tree / folder)
        annotations = [a for a in coco['annotations'] if a['image_id'] in image_ids]
        (tree / 'annotations' / f'{name}.json').write_text(json.dumps(
            dict(images=images, annotations=annotations, categories=categories)))

    write('train', 'train', {1, 2, 3, 4})
    write('1_shot', 'train', {1})  # one dent and one crack
    write('test', 'test', {5, 6})
    return tree


def source_checkpoint(path: Path, named: bool, classes: tuple = SOURCE_CLASSES) -> Path:
    """A detector of the source label space, saved as mmengine saves it (with or without the
    class names in its metadata)."""
    torch.manual_seed(3)
    state = MODELS.build(small_r50_model()).state_dict()
    meta = dict(CLASSES=classes) if named else {}  # as mmdet 2.x names them
    torch.save(dict(state_dict=state, meta=meta), path)
    return path


CONFIG = """\
_base_ = [{model!r}, {data!r}, {schedule!r}, {runtime!r}]
data_root = {root!r}
fewshot = dict(setting={setting!r}, shots=None, class_split=dict(novel={novel!r}),
               base_checkpoint={checkpoint!r})
model = dict(type='RetentiveTFA', frozen_parameters=[], base_detector=dict(
    type='FasterRCNN', **{base!r}), **{model_cfg!r})
model['roi_head']['bbox_head'].update(type='CosineSimBBoxHead', scale=20.0)
custom_hooks = [*_base_.custom_hooks, dict(type='FewShotSurgeryHook', checkpoint='')]
train_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(dataset=dict(data_root=data_root, ann_file='annotations/1_shot.json',
                              metainfo=dict(classes={classes!r})),
                 pipeline={pipeline!r}))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(dataset=dict(data_root=data_root,
                                                metainfo=dict(classes={classes!r})),
                                   pipeline={pipeline!r}))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=3)
param_scheduler = []
optim_wrapper = dict(optimizer=dict(lr=0.0))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=2))
log_level = 'WARNING'
"""


def build_runner(tmp_path: Path, tree: Path, checkpoint: Path, setting: str = 'fsod',
                 novel: tuple = CLASSES):
    base = {k: v for k, v in small_r50_model().to_dict().items() if k != 'type'}
    config = tmp_path / f'{checkpoint.stem}_fsod.py'
    config.write_text(CONFIG.format(
        model=str(R50_MODEL),
        data=str(ROOT / 'configs' / '_base_' / 'datasets' / 'cdfsod.py'),
        runtime=str(ROOT / 'configs' / '_base_' / 'fewshot_runtime.py'),
        schedule=str(ROOT / 'configs' / '_base_' / 'schedules' / 'schedule_400.py'),
        root=f'{tree}/', classes=list(CLASSES), checkpoint=str(checkpoint), base=base,
        setting=setting, novel=list(novel),
        model_cfg=MODEL, pipeline=PIPELINE))
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp_path / checkpoint.stem)
    return RUNNERS.build(cfg)


@pytest.mark.parametrize('named', [True, False])
def test_every_class_novel_from_a_detector_of_another_label_space(tmp_path, named):
    tree = cdfsod_tree(tmp_path)
    checkpoint = source_checkpoint(tmp_path / f'source_{named}.pth', named)
    source = torch.load(checkpoint, weights_only=False)['state_dict']
    runner = build_runner(tmp_path, tree, checkpoint)
    train_set = runner.train_dataloader.dataset
    # the shot file is the training set, read as it is: one image, one dent and one crack
    assert len(train_set) == 1 and tuple(train_set.metainfo['novel_classes']) == CLASSES
    assert sorted(i['bbox_label'] for i in train_set.get_data_info(0)['instances']) == [0, 1]
    runner.train()  # at lr 0: the weights stay what the surgery made them
    model = runner.model
    state = model.state_dict()
    kept = [key for key in source if not key.startswith('roi_head.bbox_head.fc_')]
    assert all(torch.equal(state[key], source[key]) for key in kept)  # every other weight
    cls, source_cls = (s['roi_head.bbox_head.fc_cls.weight'] for s in (state, source))
    assert torch.equal(cls[-1], source_cls[-1])  # the background row is the checkpoint's
    # the new classes' rows are not, not even the 'dent' row of the checkpoint's 'dent'
    assert not any(torch.equal(cls[i], source_cls[j]) for i in range(2) for j in range(2))
    assert float(cls[:2].std()) == pytest.approx(0.01, rel=0.5)  # drawn from N(0, 0.01)
    # no class retained: the base branch is off, the model predicts as TFA
    assert model.base_labels.tolist() == [-1, -1] and not bool(model.retained().any())
    metrics = runner.test()
    assert metrics['fs/bbox_nAP'] >= 0 and 'fs/bbox_bAP' not in metrics  # no base class


@pytest.mark.parametrize('source_classes, base_labels', [
    (SOURCE_CLASSES, [-1, 0]),  # square: outside the label space; dent: label 0
    (CLASSES, [0, -1]),  # crack is novel here: never the base branch's, though it knows it
])
def test_the_recipe_retains_the_base_classes_of_a_checkpoint_of_other_classes(
        tmp_path, source_classes, base_labels):
    # G-FSOD on (dent, crack), crack novel, from a detector of two classes: the base branch is
    # the checkpoint's detector (2 classes, not the split's 1), only its 'dent' retained
    tree = cdfsod_tree(tmp_path)
    checkpoint = source_checkpoint(tmp_path / 'source.pth', True, source_classes)
    source = torch.load(checkpoint, weights_only=False)['state_dict']
    runner = build_runner(tmp_path, tree, checkpoint, setting='gfsod', novel=('crack', ))
    runner.train()
    model = runner.model
    assert model.base_detector.roi_head.bbox_head.num_classes == 2
    assert model.base_labels.tolist() == base_labels
    assert model.retained().tolist() == [True, False]
    base_state = model.base_detector.state_dict()
    assert all(torch.equal(base_state[key], source[key]) for key in source)
    assert runner.test()['fs/bbox_bAP'] >= 0

    # testing the trained model where the base checkpoint is not at hand: the trained model
    # sizes its base branch; one of another size is refused by name, never loaded off
    trained = str(tmp_path / 'source' / 'iter_2.pth')
    cfg = runner.cfg.copy()
    cfg.merge_from_dict({'fewshot.base_checkpoint': str(tmp_path / 'elsewhere.pth'),
                         'load_from': trained})
    assert apply_fewshot_settings(cfg).model.base_detector.roi_head.bbox_head.num_classes == 2
    cfg.load_from = None
    one_class = MODELS.build(apply_fewshot_settings(cfg).model)
    assert one_class.base_detector.roi_head.bbox_head.num_classes == 1  # the split's
    with pytest.raises(ValueError, match='base_labels: .* has 2 classes, this model.s 1'):
        one_class.load_state_dict(torch.load(trained, weights_only=False)['state_dict'],
                                  strict=False)


def test_an_unnamed_checkpoint_is_refused_where_a_class_would_be_copied(tmp_path):
    checkpoint = source_checkpoint(tmp_path / 'unnamed.pth', named=False)
    with pytest.raises(SurgeryError, match="meta\\['dataset_meta'\\]\\['classes'\\]"):
        load_surgery_source(str(checkpoint))
    assert load_surgery_source(str(checkpoint), classes_required=False).classes == ()
    named = source_checkpoint(tmp_path / 'named.pth', named=True)
    assert load_surgery_source(str(named)).classes == SOURCE_CLASSES  # mmdet 2.x's CLASSES
