"""Test-time augmentation with a plugin config: ``tools/test.py --tta`` and the GT-box scores
of GTBoxScoringHook under TTA (the mean of the flipped and the original view)."""
import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from PIL import Image

from mmdet.registry import DATASETS, MODELS
from mmfs_plugin.evaluation import GTBoxScoring

from .tiny_coco import ANN_FILE, IMAGE_FOLDER, make_tiny_coco, write_tiny_config
from .tool_runs import TOOLS, run_command

#: A plugin test config over the tiny COCO set: GTBoxScoringHook, FewShotCocoMetric and
#: GTBoxAccuracy, ``instances`` packed, square a base and disc a novel class.
PLUGIN_CONFIG = """\
_base_ = {base!r}
custom_imports = dict(imports=['mmfs_plugin'], allow_failed_imports=False)
metainfo = dict(classes=('square', 'disc'), base_classes=['square'], novel_classes=['disc'])
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                          'scale_factor', 'instances')),
]
test_dataloader = dict(dataset=dict(metainfo=metainfo, pipeline=test_pipeline))
test_evaluator = [dict(type='FewShotCocoMetric'), dict(type='GTBoxAccuracy')]
custom_hooks = [dict(type='GTBoxScoringHook')]
"""


@pytest.fixture(scope='module')
def plugin_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin config over a 2-image tiny COCO set (64 px images, never resized)."""
    root = tmp_path_factory.mktemp('tta')
    make_tiny_coco(root, num_images=2)
    tiny = write_tiny_config(root / 'tiny_faster_rcnn.py', root)
    config = root / 'plugin_test.py'
    config.write_text(PLUGIN_CONFIG.format(base=str(tiny)))
    return config


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: the images are tiny, a second thread would only contend."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def tta_pipeline():
    """tools/test.py's ``tta_pipeline``."""
    return runpy.run_path(str(TOOLS / 'test.py'))['tta_pipeline']


def _detector(cfg: Config) -> torch.nn.Module:
    """The config's detector with random weights; class scores spread by a wide classifier."""
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.nn.init.normal_(model.roi_head.bbox_head.fc_cls.weight, std=0.5)
    return model.eval()


def test_tools_test_tta_reports_the_fewshot_metrics(plugin_config: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / 'random.pth'
    torch.save({'state_dict': _detector(Config.fromfile(plugin_config)).state_dict()},
               checkpoint)
    run_command([sys.executable, TOOLS / 'test.py', plugin_config, checkpoint, '--tta',
                 '--work-dir', tmp_path], cwd=tmp_path)
    [metrics_file] = tmp_path.glob('*/*.json')
    metrics = json.loads(metrics_file.read_text())
    for key in ('fs/bbox_mAP', 'fs/bbox_bAP', 'fs/bbox_nAP', 'fs/acc', 'fs/acc_base',
                'fs/acc_novel'):
        assert 0 <= metrics[key] <= 1, key


def _flipped_copy(root: Path, out: Path) -> None:
    """The tiny COCO set of ``root`` with every image and box flipped horizontally."""
    (out / IMAGE_FOLDER).mkdir(parents=True)
    for image in (root / IMAGE_FOLDER).glob('*.png'):
        pixels = np.asarray(Image.open(image))
        Image.fromarray(np.ascontiguousarray(pixels[:, ::-1])).save(
            out / IMAGE_FOLDER / image.name)
    coco = json.loads((root / ANN_FILE).read_text())
    widths = {image['id']: image['width'] for image in coco['images']}
    for annotation in coco['annotations']:
        x, y, w, h = annotation['bbox']
        annotation['bbox'] = [widths[annotation['image_id']] - x - w, y, w, h]
    (out / ANN_FILE).write_text(json.dumps(coco))


def _gt_box_scores(model: torch.nn.Module, dataset_cfg: dict, **changes) -> torch.Tensor:
    """The GT-box class scores of the dataset's images, tested as one batch."""
    dataset = DATASETS.build(dict(dataset_cfg, **changes))
    batch = pseudo_collate([dataset[index] for index in range(len(dataset))])
    scoring = GTBoxScoring(model)
    with scoring, torch.no_grad():
        scoring.start_batch()
        samples = model.test_step(batch)
    return torch.cat([sample.gt_box_scores for sample in samples])


def test_tta_gt_box_scores_are_the_mean_of_the_flipped_and_original_views(
        plugin_config: Path, tta_pipeline, tmp_path: Path) -> None:
    cfg = Config.fromfile(plugin_config)
    detector = _detector(cfg)
    dataset_cfg = cfg.test_dataloader.dataset.to_dict()
    pipeline = dataset_cfg['pipeline']
    flip_pipeline = pipeline[:-1] + [
        dict(type='RandomFlip', prob=1.0),
        dict(pipeline[-1], meta_keys=pipeline[-1]['meta_keys'] + ('flip', 'flip_direction'))]
    _flipped_copy(Path(cfg.data_root), tmp_path)

    original = _gt_box_scores(detector, dataset_cfg)
    flipped = _gt_box_scores(detector, dataset_cfg, pipeline=flip_pipeline)
    # the flip view's GT boxes are flipped with its image: as if image and boxes were flipped
    # on disk
    assert flipped == pytest.approx(
        _gt_box_scores(detector, dataset_cfg, data_root=str(tmp_path)), abs=1e-6)
    assert flipped != pytest.approx(original, abs=1e-3)

    # mmdet's tools/test.py --tta: its default tta_model, the pipeline of tools/test.py
    tta_model = MODELS.build(dict(type='DetTTAModel', module=detector, tta_cfg=ConfigDict(
        nms=dict(type='nms', iou_threshold=0.5), max_per_img=100)))
    merged = _gt_box_scores(tta_model, dataset_cfg, pipeline=tta_pipeline(pipeline))
    assert merged == pytest.approx((original + flipped) / 2, abs=1e-6)


def test_tta_pipeline_flips_the_test_pipeline_and_keeps_its_meta_keys(tta_pipeline) -> None:
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='PackDetInputs', meta_keys=('img_id', 'scale_factor', 'instances'))]
    tta = tta_pipeline(pipeline)
    assert tta[0] == pipeline[0] and tta[-1]['type'] == 'TestTimeAug'
    flips, [pack] = tta[-1]['transforms']
    assert [flip['prob'] for flip in flips] == [1., 0.]
    assert pack['meta_keys'] == ('img_id', 'scale_factor', 'instances', 'flip', 'flip_direction')
