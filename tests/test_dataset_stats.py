"""Table 1 of a tree: the packaged table, counting by JSON label, and the command line."""
import csv
import glob
import json
import os
import runpy
import shutil
from dataclasses import replace

import pytest

from mmfs_data.formats.mvtec_fs_table import (TABLE_COLUMNS, ClassRow, compute_table,
                                                 load_table, table_to_csv)
from mmfs_data.synthetic.generator import generate_synthetic_mvtecfs, target_table

from .labelme_tree import small_tree_spec, square, write_tree

TOOLS = os.path.join(os.path.dirname(__file__), '..', 'tools')
PACKAGED_CSV = os.path.join(os.path.dirname(__file__), '..', 'mmfs_data', 'formats',
                            'mvtec_fs_classes.csv')
COUNT_COLUMNS = TABLE_COLUMNS[:-1]


def tool_main(name: str):
    """The ``main`` function of a script in ``tools/``."""
    return runpy.run_path(os.path.join(TOOLS, f'{name}.py'))['main']


def read_csv(path: str) -> list:
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def json_files(root: str, category: str, split_folder: str, folder: str) -> list:
    return sorted(glob.glob(os.path.join(root, 'image', category, split_folder, folder, '*.json')))


def edit_json(path: str, edit) -> None:
    with open(path) as f:
        doc = json.load(f)
    edit(doc)
    with open(path, 'w') as f:
        json.dump(doc, f)


@pytest.fixture()
def demo(tmp_path):
    root = str(tmp_path / 'demo')
    generate_synthetic_mvtecfs(root, seed=0)
    return root


def test_packaged_table():
    table = load_table()
    assert len(table) == 68 and table[0] == ClassRow('bottle', 'broken_large', 10, 10, 32, 31,
                                                     900)
    assert sum(row.train_instances for row in table) == 794
    assert sum(row.test_instances for row in table) == 720
    with open(PACKAGED_CSV, newline='') as f:
        assert table_to_csv(table) == f.read().replace('\r\n', '\n')


@pytest.mark.parametrize('line, error', [
    ('category,defect,train_instances\n', 'header'),
    (','.join(TABLE_COLUMNS) + '\nbottle,hole,1,x,3,4,900\n', 'line 2: test_instances'),
    (','.join(TABLE_COLUMNS) + '\nbottle,hole,1,2,3,4,9\nbottle,hole,1,2,3,4,9\n', 'repeats'),
])
def test_bad_table_files_name_file_and_field(tmp_path, line, error):
    path = tmp_path / 'table.csv'
    path.write_text(line)
    with pytest.raises(ValueError, match=f'{path}: .*{error}'):
        load_table(str(path))


def test_classes_are_counted_by_json_label_without_ignore_regions(demo):
    bottle = json_files(demo, 'bottle', 'training', 'broken_large')
    edit_json(bottle[0], lambda doc: doc['shapes'][0].update(label='zz_new'))
    edit_json(bottle[1], lambda doc: doc['shapes'].append(
        dict(label='__ignore__', points=[[1, 1], [9, 1], [9, 9]], shape_type='polygon')))
    edit_json(json_files(demo, 'wood', 'testing', 'hole')[0],
              lambda doc: doc['shapes'][0].update(label='aa_new'))
    rows = compute_table(demo)
    expected = target_table()
    expected[0] = replace(expected[0], train_instances=15)  # bottle/broken_large lost one
    wood_hole = next(i for i, row in enumerate(expected) if row.defect == 'hole')
    expected[wood_hole] = replace(expected[wood_hole], test_instances=7)
    assert rows == expected + [
        replace(expected[0], defect='zz_new', train_instances=1, test_instances=0),
        replace(expected[-1], defect='aa_new', train_instances=0, test_instances=1)]
    assert [row.category for row in compute_table(demo, categories=['screw'])] == ['screw'] * 3


def test_full_shape_matches_table1_except_image_size(tmp_path, capsys):
    root, out_csv = str(tmp_path / 'full'), str(tmp_path / 'table1.csv')
    assert tool_main('dataset_converters/make_synthetic_mvtecfs')(
        [root, '--like-mvtec-fs', '--scale', '0.1']) == 0
    assert tool_main('analysis_tools/dataset_stats')([root, '--csv', out_csv]) == 0
    printed = capsys.readouterr().out
    assert '68 classes in 14 categories; training: 634 images, 794 instances' in printed
    with open(out_csv, newline='') as f:
        assert next(csv.reader(f)) == list(TABLE_COLUMNS)

    def key(row):
        return row['category'], row['defect']

    got, want = sorted(read_csv(out_csv), key=key), sorted(read_csv(PACKAGED_CSV), key=key)
    assert [[row[c] for c in COUNT_COLUMNS] for row in got] == \
        [[row[c] for c in COUNT_COLUMNS] for row in want]
    assert [int(row['image_size']) for row in got] == \
        [round(int(row['image_size']) * 0.1) for row in want]
    # the relabelling quirks: the label, not the folder, names the class
    folders = {(category, folder) for category in os.listdir(os.path.join(root, 'image'))
               for folder in os.listdir(os.path.join(root, 'image', category, 'training'))}
    assert {c for c, folder in folders if folder == 'combined'} == {'cable', 'pill', 'wood',
                                                                     'zipper'}
    labels = []
    for path in json_files(root, 'metal_nut', 'training', 'scratch'):
        with open(path) as f:
            labels += [shape['label'] for shape in json.load(f)['shapes']]
    assert 'bent' in labels and 'scratch' in labels


def test_command_line_failures_are_clear(demo, tmp_path, capsys):
    main = tool_main('analysis_tools/dataset_stats')
    assert main([str(tmp_path / 'missing')]) == 1
    assert 'missing' in capsys.readouterr().err
    broken = json_files(demo, 'wood', 'training', 'color')[1]
    edit_json(broken, lambda doc: doc.update(shapes=[dict(label='color', points=[[1, 2]])]))
    assert main([demo]) == 1
    assert f'dataset_stats: error: {broken}: ' in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(['--help'])
    assert exit_info.value.code == 0 and '--csv' in capsys.readouterr().out


def test_labels_print_quoted_and_unknown_ones_marked(tmp_path, capsys):
    root = str(tmp_path / 'tree')
    write_tree(root, {
        ('bottle', 'training', 'broken_large', '000'): [('broken_large', square(4, 4, 10)),
                                                        ('broken_large ', square(30, 30, 9))],
        ('bottle', 'testing', 'broken_large', '010'): [('Broken_large', square(4, 4, 10))],
    })
    path = os.path.join(root, 'image', 'bottle', 'testing', 'broken_large', '010.json')
    edit_json(path, lambda doc: doc.update(imageHeight=65))
    assert tool_main('analysis_tools/dataset_stats')([root]) == 0
    out, err = capsys.readouterr()
    assert [line.split() for line in out.splitlines()[1:4]] == [
        ['bottle', "'broken_large'", '1', '0', '1', '1', '64'],
        ['bottle', "'Broken_large'", '*', '0', '1', '1', '1', '64'],
        ['bottle', "'broken_large", "'", '*', '1', '0', '1', '1', '64']]
    assert out.splitlines()[-1] == '* not in MVTec-FS Table 1: 2 classes'
    assert err.endswith(f'\ndataset_stats: warning: {path}: imageHeight: disagrees with the '
                        f"image (65 in the JSON, 64 in {path[:-len('.json')]}.png; the image's "
                        'is used)\n')  # after the progress bar
    assert tool_main('analysis_tools/dataset_stats')(
        [root, '--csv', os.path.join(root, 'out.csv')]) == 0
    assert [row['defect'] for row in read_csv(os.path.join(root, 'out.csv'))] == [
        'broken_large', 'Broken_large', 'broken_large ']  # the CSV keeps the labels as they are


def test_two_files_of_one_image_are_an_error(tmp_path, capsys):
    root = str(tmp_path / 'tree')
    write_tree(root, small_tree_spec())
    first = os.path.join(root, 'image', 'screw', 'training', 'thread_side', '001.json')
    copy = first.replace('001.json', '001 - Copy.json')
    shutil.copy(first, copy)
    assert tool_main('analysis_tools/dataset_stats')([root]) == 1
    image = os.path.realpath(first[:-len('.json')] + '.png')
    assert capsys.readouterr().err.endswith(
        f'\ndataset_stats: error: {first}: imagePath: image annotated twice ({image} is also '
        f'annotated by {copy})\n')
