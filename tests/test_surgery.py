"""Weight surgery: rows mapped by class name, random novel rows, errors, the command line."""
import importlib.util
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mmfs_plugin.engine import SurgeryError, SurgerySource, load_surgery_source, surgery

ROOT = Path(__file__).resolve().parents[1]
CLS, REG = 'roi_head.bbox_head.fc_cls', 'roi_head.bbox_head.fc_reg'
DIM = 6


def head_state(classes: list[str], offset: float = 0.0, dim: int = DIM,
               cls_bias: bool = True) -> dict[str, torch.Tensor]:
    """A state dict whose head rows hold distinct values: row r of fc_cls is r + offset."""
    n = len(classes)
    state = {
        'backbone.conv.weight': torch.randn(3, 3),
        f'{CLS}.weight': (torch.arange(n + 1.0)[:, None] + offset).expand(-1, dim).clone(),
        f'{REG}.weight': (torch.arange(4.0 * n)[:, None] + 100 + offset).expand(-1, dim).clone(),
        f'{REG}.bias': torch.arange(4.0 * n) + 1000 + offset,
    }
    if cls_bias:
        state[f'{CLS}.bias'] = torch.arange(n + 1.0) + 10 + offset
    return state


def source(classes: list[str], name: str = 'base.pth', **kwargs) -> SurgerySource:
    return SurgerySource(head_state(classes, **kwargs), tuple(classes), name)


def test_randinit_lands_each_row_on_its_class_under_a_permuted_order():
    base = source(['a', 'b', 'c'])
    out = surgery(base, ['c', 'novel', 'a'], 'randinit', seed=0)
    src = base.state_dict
    assert torch.equal(out[f'{CLS}.weight'][0], src[f'{CLS}.weight'][2])
    assert torch.equal(out[f'{CLS}.weight'][2], src[f'{CLS}.weight'][0])
    assert torch.equal(out[f'{CLS}.weight'][3], src[f'{CLS}.weight'][3])  # background
    assert out[f'{CLS}.bias'].tolist() == [12.0, 0.0, 10.0, 13.0]
    assert torch.equal(out[f'{REG}.weight'][0:4], src[f'{REG}.weight'][8:12])
    assert torch.equal(out[f'{REG}.weight'][8:12], src[f'{REG}.weight'][0:4])
    assert out[f'{REG}.bias'].tolist() == [1008, 1009, 1010, 1011, 0, 0, 0, 0,
                                           1000, 1001, 1002, 1003]
    assert out[f'{CLS}.weight'].shape == (4, DIM) and out[f'{REG}.weight'].shape == (12, DIM)
    assert out['backbone.conv.weight'] is src['backbone.conv.weight']
    assert src[f'{CLS}.weight'].shape == (4, DIM)  # the source is left alone


def test_novel_rows_are_drawn_from_normal_0_001_and_seeded():
    novel = [f'n{i}' for i in range(40)]
    base = source(['a'], dim=1024)
    out = surgery(base, ['a', *novel], 'randinit', seed=3)
    for drawn in (out[f'{CLS}.weight'][1:-1], out[f'{REG}.weight'][4:]):
        assert abs(drawn.mean().item()) < 1e-3
        assert drawn.std().item() == pytest.approx(0.01, rel=0.03)
    again = surgery(base, ['a', *novel], 'randinit', seed=3)
    other = surgery(base, ['a', *novel], 'randinit', seed=4)
    assert torch.equal(out[f'{CLS}.weight'], again[f'{CLS}.weight'])
    assert not torch.equal(out[f'{CLS}.weight'], other[f'{CLS}.weight'])


def test_cosine_head_without_classifier_bias():
    base = source(['a', 'b'], cls_bias=False)
    out = surgery(base, ['b', 'x'], 'randinit')
    assert f'{CLS}.bias' not in out
    assert torch.equal(out[f'{CLS}.weight'][0], base.state_dict[f'{CLS}.weight'][1])


def test_class_agnostic_regressor_is_copied_whole():
    base = source(['a', 'b'])
    base.state_dict[f'{REG}.weight'] = torch.randn(4, DIM)
    base.state_dict[f'{REG}.bias'] = torch.randn(4)
    out = surgery(base, ['b', 'a', 'x'], 'randinit')
    assert out[f'{REG}.weight'] is base.state_dict[f'{REG}.weight']


def test_missing_base_class_is_named_with_the_checkpoint():
    with pytest.raises(SurgeryError, match=r"^base\.pth: .*class 'bee' is not in the ") as info:
        surgery(source(['a', 'b']), ['a', 'bee', 'n'], 'randinit', novel_classes=['n'])
    copy = pickle.loads(pickle.dumps(info.value))  # crosses processes whole
    assert (type(copy), str(copy), copy.file) == (SurgeryError, str(info.value), 'base.pth')


def test_head_shape_not_fitting_the_classes_is_named():
    base = source(['a', 'b'])
    base.state_dict[f'{CLS}.weight'] = torch.zeros(5, DIM)
    with pytest.raises(SurgeryError, match=rf'base\.pth: {CLS}\.weight: shape \(5, 6\).*'
                       r'2 classes \(expected 3 rows\)'):
        surgery(base, ['a'], 'randinit')


def test_wrong_head_prefix_or_arguments_fail_clearly():
    with pytest.raises(SurgeryError, match=r'bbox_head\.fc_cls\.weight: missing'):
        surgery(source(['a']), ['a'], head_prefix='bbox_head')
    with pytest.raises(ValueError, match="expected one of \\('randinit', 'remove'\\)"):
        surgery(source(['a']), ['a'], 'combine')
    with pytest.raises(ValueError, match='without repeats'):
        surgery(source(['a']), ['a', 'a'])


def test_remove_drops_the_last_layers_only():
    out = surgery(source(['a', 'b']), [], 'remove')
    assert sorted(out) == ['backbone.conv.weight']


def save_checkpoint(path: Path, classes: list[str] | None, **kwargs) -> str:
    meta = {} if classes is None else {'dataset_meta': {'classes': classes}}
    torch.save({'meta': meta, 'state_dict': head_state(classes or ['a'], **kwargs)}, path)
    return str(path)


def test_missing_checkpoint_names_the_field(tmp_path):
    with pytest.raises(SurgeryError, match=r'nope\.pth: fewshot\.base_checkpoint: not found'):
        load_surgery_source(str(tmp_path / 'nope.pth'))


def test_checkpoint_without_class_names_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / 'anon.pth', None)
    with pytest.raises(SurgeryError, match=r"anon\.pth: meta\['dataset_meta'\]\['classes'\]"):
        load_surgery_source(path)


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('ckpt_surgery',
                                                  ROOT / 'tools/fewshot/ckpt_surgery.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tool_randinit_writes_the_new_classes(tool, tmp_path, capsys):
    base = save_checkpoint(tmp_path / 'base.pth', ['a', 'b'])
    (tmp_path / 'classes.txt').write_text('b\n\nnew\n')
    out = tmp_path / 'out' / 'surgery.pth'
    assert tool.main(['randinit', base, '--classes-file', str(tmp_path / 'classes.txt'),
                      '--novel-classes', 'new', '--out', str(out)]) == 0
    saved = torch.load(out)
    assert saved['meta']['dataset_meta']['classes'] == ['b', 'new']
    assert saved['state_dict'][f'{CLS}.weight'][:, 0].tolist()[::2] == [1.0, 2.0]
    assert os.listdir(out.parent) == ['surgery.pth']
    assert 'wrote' in capsys.readouterr().out


def test_tool_remove(tool, tmp_path):
    base = save_checkpoint(tmp_path / 'base.pth', ['a'])
    assert tool.main(['remove', base, '--classes', 'x', '--out', str(tmp_path / 'r.pth')]) == 0
    assert list(torch.load(tmp_path / 'r.pth')['state_dict']) == ['backbone.conv.weight']


def test_tool_help(tool, capsys):
    with pytest.raises(SystemExit) as exit_info:
        tool.main(['--help'])
    assert exit_info.value.code == 0
    assert 'randinit' in capsys.readouterr().out


def test_tool_reports_a_missing_checkpoint(tool, tmp_path, capsys):
    missing = str(tmp_path / 'missing.pth')
    assert tool.main(['randinit', missing, '--classes', 'a', '--out',
                      str(tmp_path / 'out.pth')]) == 1
    assert missing in capsys.readouterr().err


def test_tool_error_exits_non_zero_naming_the_class_and_file(tmp_path):
    base = save_checkpoint(tmp_path / 'base.pth', ['a'])
    result = subprocess.run(
        [sys.executable, 'tools/fewshot/ckpt_surgery.py', 'randinit', base, '--classes', 'a', 'bee',
         'n', '--novel-classes', 'n', '--out', str(tmp_path / 'out.pth')],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert result.returncode == 1
    assert "base.pth: meta['dataset_meta']['classes']: class 'bee'" in result.stderr
    assert not (tmp_path / 'out.pth').exists()
