"""mmfs_data (formats, the few-shot protocol, the synthetic generator) and the tools built on it
work where torch, mmdet, mmengine and mmcv cannot be imported."""
import os
import pkgutil
import subprocess
import sys

import mmfs_data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = ('torch', 'torchvision', 'mmdet', 'mmengine', 'mmcv')
#: Run first in the subprocess: importing any of HEAVY raises ImportError.
BLOCK_HEAVY = f'import sys\nfor name in {HEAVY!r}:\n    sys.modules[name] = None\n'


def _run_without_heavy(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', BLOCK_HEAVY + code, *args],
                          capture_output=True, text=True, cwd=ROOT)


def test_every_module_of_mmfs_data_imports_without_torch_or_mmdet():
    modules = [info.name for info in pkgutil.walk_packages(mmfs_data.__path__, 'mmfs_data.')]
    assert {'mmfs_data.formats.labelme', 'mmfs_data.fewshot.protocol',
            'mmfs_data.synthetic.generator'} <= set(modules)
    out = _run_without_heavy(
        'import importlib\n'
        f'for name in {modules!r}:\n'
        '    importlib.import_module(name)\n'
        'print(len(sys.modules))\n')
    assert out.returncode == 0, out.stderr


def test_the_blocking_itself_works():
    out = _run_without_heavy('import torch\n')
    assert out.returncode != 0 and 'import of torch halted' in out.stderr


def test_labelme2coco_converts_without_torch_or_mmdet(tmp_path):
    from PIL import Image
    Image.new('RGB', (40, 30)).save(tmp_path / 'a.png')
    (tmp_path / 'a.json').write_text(
        '{"version": "5.4.1", "flags": {}, "imagePath": "a.png", "imageData": null, '
        '"imageHeight": 30, "imageWidth": 40, "shapes": [{"label": "dent", '
        '"points": [[2, 3], [12, 13]], "shape_type": "rectangle", "group_id": null, '
        '"flags": {}}]}')
    out_file = tmp_path / 'coco.json'
    tool = os.path.join(ROOT, 'tools', 'dataset_converters', 'labelme2coco.py')
    out = _run_without_heavy(
        'import runpy\n'
        f'sys.argv = [{tool!r}, {str(tmp_path)!r}, {str(out_file)!r}]\n'
        f'runpy.run_path({tool!r}, run_name="__main__")\n')
    assert out.returncode == 0, out.stderr
    import json
    coco = json.loads(out_file.read_text())
    assert [c['name'] for c in coco['categories']] == ['dent']
    assert coco['annotations'][0]['bbox'] == [2.0, 3.0, 10.0, 10.0]


def test_dataset_stats_runs_without_torch_or_mmdet():
    tool = os.path.join(ROOT, 'tools', 'analysis_tools', 'dataset_stats.py')
    out = _run_without_heavy(
        'import runpy\n'
        f'sys.argv = [{tool!r}, "--help"]\n'
        'try:\n'
        f'    runpy.run_path({tool!r}, run_name="__main__")\n'
        'except SystemExit as exit:\n'
        '    assert exit.code == 0, exit.code\n')
    assert out.returncode == 0, out.stderr
    assert 'usage' in out.stdout
