"""Acceptance on a tree of MVTec-FS's full shape (14 categories, 68 classes, Table 1's counts).

The tree is generated once (``--like-mvtec-fs`` at scale 0.1: Table 1's counts, small images).
That ``tools/analysis_tools/dataset_stats.py --csv`` reproduces the packaged Table 1 in every count column on
this very shape is tested in
``tests/test_dataset_stats.py::test_full_shape_matches_table1_except_image_size``.
"""
import json
import os
import runpy
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from mmdet.datasets import CocoDataset

from mmfs_plugin.datasets import FewShotDataset
from mmfs_data.formats.mvtec_fs_table import mvtec_fs_classes
from mmfs_data.synthetic.generator import generate_synthetic_mvtecfs

TOOLS = Path(__file__).resolve().parents[1] / 'tools'
SPLIT1_NOVEL_CATEGORIES = {'bottle', 'cable', 'hazelnut', 'tile'}


@pytest.fixture(scope='module')
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MVTec-FS-shaped tree at scale 0.1, generated once for the module."""
    root = tmp_path_factory.mktemp('mvtec_fs_shape')
    generate_synthetic_mvtecfs(str(root), like_mvtec_fs=True, scale=0.1, seed=0)
    return root


def build(tree: Path, split: str = 'train', **fewshot) -> FewShotDataset:
    """The tree's split through FewShotDataset with the given few-shot arguments."""
    return FewShotDataset(dataset=dict(type='MVTecFSDataset', data_root=str(tree), split=split),
                          test_mode=split == 'test', pipeline=[], **fewshot)


def all_infos(dataset) -> List[dict]:
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def labels_of(dataset) -> Counter:
    """Class name -> number of non-ignored instances."""
    classes = dataset.metainfo['classes']
    return Counter(classes[label] for i in range(len(dataset))
                   for label in dataset.get_cat_ids(i))


@pytest.mark.parametrize('split, images, instances', [('train', 634, 794), ('test', 594, 720)])
def test_table1_totals(tree, split, images, instances):
    dataset = build(tree, split=split)
    assert len(dataset) == images
    assert sum(labels_of(dataset).values()) == instances
    assert len(dataset.metainfo['classes']) == 68
    assert set(labels_of(dataset)) <= set(dataset.metainfo['classes'])


def test_every_box_is_its_polygons_extent_clipped(tree):
    checked = 0
    for split in ('train', 'test'):
        for info in all_infos(build(tree, split=split)):
            shapes = json.loads((tree / info['json_path']).read_text())['shapes']
            for inst in info['instances']:
                index = int(inst['instance_key'].rpartition('#')[2])
                xs, ys = zip(*shapes[index]['points'])
                assert inst['bbox'] == [max(min(xs), 0), max(min(ys), 0),
                                        min(max(xs), info['width']),
                                        min(max(ys), info['height'])], inst['instance_key']
                checked += 1
    assert checked == 794 + 720


def test_split1_has_49_base_and_19_novel_classes(tree):
    meta = build(tree, class_split='split1').metainfo
    assert (len(meta['base_classes']), len(meta['novel_classes'])) == (49, 19)
    assert {name.split('/')[0] for name in meta['novel_classes']} == SPLIT1_NOVEL_CATEGORIES
    assert set(meta['base_classes']) | set(meta['novel_classes']) == set(meta['classes'])


@pytest.mark.parametrize('shots', [1, 3, 5])
def test_kshot_keeps_min_k_available_and_selection_files_reload(tree, tmp_path,
                                                                shots):
    available = labels_of(build(tree, class_split='split1'))
    # Table 1 has >= 5 training instances per class; fewer than k is covered in test_kshot.py.
    assert len(available) == 68 and min(available.values()) == 5
    for seed in range(5):
        dataset = build(tree, class_split='split1', shots=shots, seed=seed)
        kept = labels_of(dataset)
        assert {name: kept[name] for name in available} == \
            {name: min(shots, count) for name, count in available.items()}, seed
        selection_file = str(tmp_path / f'{shots}shot_seed{seed}.json')
        dataset.kshot_selection.save(selection_file)
        reloaded = build(tree, class_split='split1', load_selection=selection_file)
        assert all_infos(reloaded) == all_infos(dataset)


def objects_by_image(infos: List[dict]) -> Dict[str, List[Tuple[int, List[float]]]]:
    """Normalised image path -> sorted (label, box) of the non-ignored instances."""
    return {
        os.path.normpath(info['img_path']):
        sorted((inst['bbox_label'], inst['bbox']) for inst in info['instances']
               if not inst['ignore_flag'])
        for info in infos
    }


def test_labelme2coco_export_loads_in_coco_dataset_as_the_same_objects(tree, capsys):
    """Whole tree, one class list: the JSON labels are bare defect names, so the export's
    ``--classes`` are Table 1's defect names with same-named defects merged; ``MVTecFSDataset``'s
    ``'<category>/<defect>'`` labels are mapped onto them, and images are matched by their
    file."""
    table = mvtec_fs_classes()
    classes = list(dict.fromkeys(name.split('/', 1)[1] for name in table))
    to_export = [classes.index(name.split('/', 1)[1]) for name in table]
    out = tree / 'coco_all.json'
    convert = runpy.run_path(str(TOOLS / 'dataset_converters' / 'labelme2coco.py'))['main']
    assert convert([str(tree / 'image'), str(out), '--classes', *classes]) == 0
    assert '1228 images, 1514 annotations, 46 categories' in capsys.readouterr().out
    coco = CocoDataset(data_root='', ann_file=str(out), data_prefix=dict(img=f'{tree}/'),
                       metainfo=dict(classes=classes), test_mode=True, pipeline=[])
    ours = [info for split in ('train', 'test')
            for info in all_infos(build(tree, split=split))]
    for info in ours:
        for inst in info['instances']:
            inst['bbox_label'] = to_export[inst['bbox_label']]
    want, got = objects_by_image(ours), objects_by_image(all_infos(coco))
    assert len(want) == 1228 and set(got) == set(want)
    for img_path, objects in want.items():
        assert [label for label, _ in got[img_path]] == [label for label, _ in objects]
        for (_, box), (_, coco_box) in zip(objects, got[img_path]):
            assert coco_box == pytest.approx(box, abs=1e-3), img_path
