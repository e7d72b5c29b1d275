"""Tests of the demo and its pictures: tools/misc/demo.py, tools/analysis_tools/browse_dataset.py,
tools/analysis_tools/analyze_results.py and mmfs_plugin.visualization."""
import os
import pickle
import runpy
import subprocess
import sys
from pathlib import Path

import mmcv
import numpy as np
import pycocotools.mask as mask_util
import pytest

from mmfs_data.synthetic.generator import generate_synthetic_mvtecfs
from mmfs_plugin.engine import build_fewshot_dataset
from mmfs_plugin.visualization import confusion_matrix, draw_instances

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / 'tools'
CONFIG = str(REPO / 'configs' / 'demo' / 'demo_5shot.py')


def tool(name: str) -> dict:
    """The globals of a script in ``tools/`` (its functions), run as a module."""
    return runpy.run_path(str(TOOLS / f'{name}.py'))


@pytest.fixture(scope='module')
def demo_tree(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A synthetic demo tree (the 3-category set of ``make demo``)."""
    root = tmp_path_factory.mktemp('demo_tree') / 'demo_mvtec_fs'
    generate_synthetic_mvtecfs(str(root))
    return str(root)


@pytest.fixture
def data_options(demo_tree: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Config overrides pointing the demo config at the test tree; a private record cache."""
    monkeypatch.setenv('MMFS_CACHE_DIR', str(tmp_path / 'cache'))
    return {f'{loader}_dataloader.dataset.dataset.data_root': demo_tree
            for loader in ('train', 'val', 'test')}


def cli(options: dict) -> list:
    """``--cfg-options`` arguments of config overrides."""
    return ['--cfg-options'] + [f'{key}={value}' for key, value in options.items()]


def test_confusion_matrix_equals_hand_count() -> None:
    box = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]], dtype=float)
    image1 = (  # GT classes 0, 1, 2
        box, np.array([0, 1, 2]),
        np.array([[0, 0, 10, 10], [0, 0, 10, 10], [20, 20, 30, 31], [40, 40, 50, 50]]),
        np.array([0.9, 0.5, 0.8, 0.2]),  # the 0.5 one loses to 0.9; 0.2 is under the thr
        np.array([0, 2, 2, 2]))
    image2 = (  # two GT boxes of class 0
        np.array([[0, 0, 10, 10], [50, 50, 60, 60]]), np.array([0, 0]),
        np.array([[5, 5, 15, 15], [50, 50, 60, 60], [50, 50, 60, 60]]),  # IoU 25/175 < 0.5
        np.array([0.9, 0.6, 0.7]),
        np.array([0, 1, 0]))
    image3 = (box[:1], np.array([1]), np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))
    matrix = confusion_matrix([image1, image2, image3], num_classes=3)
    #                      pred 0  1  2  missed
    expected = np.array([[2, 0, 0, 1],
                         [0, 0, 1, 1],
                         [0, 0, 0, 1]])
    np.testing.assert_array_equal(matrix, expected)
    # a lower score threshold lets the 0.2 detection match its class-2 box
    assert confusion_matrix([image1], 3, score_thr=0.1)[2].tolist() == [0, 0, 1, 0]


def test_confusion_matrix_rejects_out_of_range_labels() -> None:
    image = (np.array([[0, 0, 1, 1]]), np.array([3]), np.zeros((0, 4)), np.zeros(0),
             np.zeros(0, int))
    with pytest.raises(ValueError, match=r'image 0: gt_labels: .*\[0, 3\)'):
        confusion_matrix([image], num_classes=3)


def test_draw_instances_handles_every_region_kind(tmp_path: Path) -> None:
    rle = mask_util.encode(np.asfortranarray(np.pad(np.ones((8, 8), np.uint8), 12)))
    instances = [
        dict(bbox=[2, 2, 10, 10], bbox_label=0, ignore_flag=0, instance_key='a#0',
             mask=[[2, 2, 10, 2, 10, 10, 2, 10]]),
        dict(bbox=[12, 12, 20, 20], bbox_label=1, ignore_flag=1, instance_key='a#1',
             mask=dict(size=[32, 32], counts=rle['counts'])),
        dict(bbox=[22, 2, 30, 10], bbox_label=-1, ignore_flag=1, instance_key='a#2',
             mask=[[22, 2, 30, 2, 30, 10]]),
    ]
    out_file = tmp_path / 'pictures' / 'sample.png'
    draw_instances(np.zeros((32, 32, 3), np.uint8), instances, ['a/x', 'b/y'],
                   [(31, 119, 180), (214, 39, 40)], {'b/y'}, str(out_file),
                   selected_keys={'a#0'}, title='sample')
    picture = mmcv.imread(str(out_file))
    assert picture is not None and min(picture.shape[:2]) > 100


@pytest.mark.parametrize('ignore_flag, said', [(1, 'not selected (ignored)'),
                                               (0, 'not selected (trained as an object)')])
def test_browse_legend_says_whether_an_unselected_instance_is_trained(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ignore_flag: int, said: str) -> None:
    """``unselected='keep'`` (the recipe's default) trains the instances the k-shot draw did
    not select as objects: the legend called them ignored."""
    from mmfs_plugin.visualization import drawing
    legends = []
    legend = drawing._legend
    monkeypatch.setattr(drawing, '_legend', lambda fig, *args: (
        legend(fig, *args), legends.extend(t.get_text() for t in fig.legends[0].get_texts())))
    instances = [dict(bbox=[2, 2, 10, 10], bbox_label=0, ignore_flag=0, instance_key='a#0'),
                 dict(bbox=[12, 12, 20, 20], bbox_label=0, ignore_flag=ignore_flag,
                      instance_key='a#1')]
    draw_instances(np.zeros((32, 32, 3), np.uint8), instances, ['a/x'], None, set(),
                   str(tmp_path / 'sample.png'), selected_keys={'a#0'})
    assert legends == ['a/x (base)', 'k-shot selected', said]


@pytest.mark.parametrize('split, num, expected', [('train', 3, 3), ('test', 2, 2)])
def test_browse_dataset_writes_one_png_per_image(data_options: dict, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture, split: str,
                                                 num: int, expected: int) -> None:
    out_dir = tmp_path / 'browse'
    assert tool('analysis_tools/browse_dataset')['main']([
        CONFIG, '--split', split, '--num', str(num), '--out-dir', str(out_dir),
        *cli(data_options)]) == 0
    pngs = sorted(out_dir.glob('*.png'))
    assert len(pngs) == expected
    assert all(path.name.startswith(f'{split}_') for path in pngs)
    printed = capsys.readouterr().out.split()
    assert all(str(path) in printed for path in pngs)


@pytest.fixture
def perfect_predictions(data_options: dict, tmp_path: Path) -> str:
    """A predictions pickle (tools/test.py --out layout) equal to the test GT."""
    dataset = build_fewshot_dataset(CONFIG, 'test', data_options)
    samples = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        kept = [inst for inst in info['instances'] if inst['bbox_label'] >= 0]
        samples.append(dict(
            img_id=info['img_id'], img_path=info['img_path'],
            pred_instances=dict(
                bboxes=np.array([inst['bbox'] for inst in kept]).reshape(-1, 4),
                scores=np.full(len(kept), 0.9),
                labels=np.array([inst['bbox_label'] for inst in kept], dtype=np.int64))))
    path = tmp_path / 'predictions.pkl'
    path.write_bytes(pickle.dumps(samples))
    return str(path)


def test_analyze_results_writes_both_pngs(data_options: dict, perfect_predictions: str,
                                          tmp_path: Path) -> None:
    analyze = tool('analysis_tools/analyze_results')
    out_dir = tmp_path / 'pictures'
    assert analyze['main']([CONFIG, perfect_predictions, '--out-dir', str(out_dir),
                            *cli(data_options)]) == 0
    for name in ('per_class_ap.png', 'confusion_matrix.png'):
        assert mmcv.imread(str(out_dir / name)) is not None
    # the numbers behind the pictures: perfect predictions give AP 1 and a diagonal matrix
    dataset = build_fewshot_dataset(CONFIG, 'test', data_options)
    gts, preds = analyze['load_predictions'](perfect_predictions, dataset)
    num_classes = len(dataset.metainfo['classes'])
    np.testing.assert_allclose(analyze['class_ap'](gts, preds, dataset.metainfo['classes']), 1.0)
    matrix = analyze['class_confusion'](gts, preds, num_classes, 0.5, 0.3)
    np.testing.assert_array_equal(matrix[:, :-1], np.diag(matrix.diagonal()))
    assert not matrix[:, -1].any() and matrix.diagonal().all()


def test_analyze_results_names_the_file_and_field_of_a_foreign_image(
        data_options: dict, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / 'foreign.pkl'
    path.write_bytes(pickle.dumps([dict(img_id=10**6, pred_instances=dict(
        bboxes=np.zeros((0, 4)), scores=np.zeros(0), labels=np.zeros(0, int)))]))
    assert tool('analysis_tools/analyze_results')['main'](
        [CONFIG, str(path), '--out-dir', str(tmp_path), *cli(data_options)]) == 1
    assert f'{path}: [0].img_id: 1000000 is not an image' in capsys.readouterr().err


def test_analyze_results_refuses_predictions_of_other_images_or_classes(
        data_options: dict, perfect_predictions: str, tmp_path: Path,
        capsys: pytest.CaptureFixture) -> None:
    analyze = tool('analysis_tools/analyze_results')
    samples = pickle.loads(Path(perfect_predictions).read_bytes())
    # the test file exported again: the same ids name other images
    swapped = [dict(samples[0], img_path=samples[1]['img_path']),
               dict(samples[1], img_path=samples[0]['img_path'])] + samples[2:]
    path = tmp_path / 'other_images.pkl'
    path.write_bytes(pickle.dumps(swapped))
    args = ['--out-dir', str(tmp_path), *cli(data_options)]
    assert analyze['main']([CONFIG, str(path), *args]) == 1
    assert (f"{path}: [0].img_path: {samples[1]['img_path']} was predicted as img_id "
            f"{samples[0]['img_id']!r}, but the test dataset's image {samples[0]['img_id']!r} "
            f"is {samples[0]['img_path']}") in capsys.readouterr().err
    # labels of a larger label space: refused, not read as the config's classes
    classes = build_fewshot_dataset(CONFIG, 'test', data_options).metainfo['classes']
    position = next(i for i, sample in enumerate(samples)
                    if len(sample['pred_instances']['labels']))
    samples[position]['pred_instances']['labels'][0] = len(classes)
    path = tmp_path / 'other_classes.pkl'
    path.write_bytes(pickle.dumps(samples))
    assert analyze['main']([CONFIG, str(path), *args]) == 1
    assert (f'{path}: [{position}].pred_instances.labels: {len(classes)} is not a label of the '
            f"config's {len(classes)} classes") in capsys.readouterr().err


def test_demo_help() -> None:
    result = subprocess.run([sys.executable, str(TOOLS / 'misc' / 'demo.py'), '--help'], cwd=REPO,
                            capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr
    assert '--work-dir' in result.stdout and '--data-root' in result.stdout


def test_demo_table_from_metrics() -> None:
    metrics = {'fs/bbox_mAP': 0.3899, 'fs/bbox_mAP_50': 0.7925, 'fs/bbox_bAP': 0.4147,
               'fs/bbox_bAP50': 0.7655, 'fs/bbox_nAP': -1.0, 'fs/acc': 1.0,
               'fs/acc_base': 0.875, 'fs/acc_novel': 0.5}
    table = tool('misc/demo')['format_metrics_table'](metrics)
    rows = {line.split('|')[1].strip(): [cell.strip() for cell in line.split('|')[2:-1]]
            for line in table.splitlines() if line.startswith('|')}
    assert rows['overall'] == ['39.0', '79.2', '100.0']
    assert rows['base'] == ['41.5', '76.5', '87.5']
    # nAP -1 (no novel GT) and a missing nAP50 show as '-'
    assert rows['novel'] == ['-', '-', '50.0']
    assert table.splitlines()[-2:] == [
        'Per image (rejected when a detection scores above 0.5): escape -, overkill -',
        '  (- defect-free images), AUROC -; at 1% overkill: threshold -, escape -']
    line = tool('misc/demo')['format_inspection_line'](
        {'inspect/escape_rate': 0.125, 'inspect/overkill_rate': 0.0, 'inspect/good_images': 18.0,
         'inspect/auroc': 0.9375, 'inspect/threshold_at_overkill': 0.8125,
         'inspect/escape_at_overkill': -1.0})
    assert line.splitlines() == [
        'Per image (rejected when a detection scores above 0.5): escape 12.5%, overkill 0.0%',
        '  (18 defect-free images), AUROC 0.94; at 1% overkill: threshold 0.81, escape -']
