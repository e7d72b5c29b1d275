"""Tests of mmfs_data.fileio: atomic writes."""
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mmfs_data.fileio import atomic_write, dump_json_atomic


def test_atomic_write_creates_text_and_binary_files(tmp_path: Path) -> None:
    text_path, binary_path = tmp_path / 'a.txt', tmp_path / 'b.bin'
    with atomic_write(text_path) as file:
        file.write('grüße\n')
    with atomic_write(binary_path, mode='wb') as file:
        file.write(b'\x00\xff')
    assert text_path.read_text(encoding='utf-8') == 'grüße\n'
    assert binary_path.read_bytes() == b'\x00\xff'
    assert sorted(os.listdir(tmp_path)) == ['a.txt', 'b.bin']


def test_atomic_write_replaces_only_when_complete(tmp_path: Path) -> None:
    path = tmp_path / 'state.txt'
    path.write_text('old')
    with atomic_write(str(path)) as file:
        file.write('new')
        assert path.read_text() == 'old'
    assert path.read_text() == 'new'


def test_exception_mid_write_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / 'state.txt'
    path.write_text('old')
    with pytest.raises(RuntimeError, match='crash'):
        with atomic_write(path) as file:
            file.write('half of the new cont')
            raise RuntimeError('crash')
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['state.txt']


def test_process_killed_mid_write_keeps_the_previous_file(tmp_path: Path) -> None:
    """SIGKILL (no Python cleanup at all) in the middle of a write."""
    path = tmp_path / 'selection.json'
    path.write_text('{"old": true}')
    writer = subprocess.Popen(
        [sys.executable, '-c', textwrap.dedent(f"""
            import time
            from mmfs_data.fileio import atomic_write
            with atomic_write({str(path)!r}) as file:
                file.write('{{"new": ' + 'x' * 1_000_000)
                file.flush()
                print('writing', flush=True)
                time.sleep(60)
            """)],
        stdout=subprocess.PIPE,
        text=True)
    try:
        assert writer.stdout.readline() == 'writing\n'
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
    finally:
        writer.kill()
        writer.stdout.close()
    assert json.loads(path.read_text()) == {'old': True}


def test_exception_before_first_write_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(tmp_path / 'new.txt'):
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / 'x.txt') as file:
            file.write('x')
    finally:
        os.umask(umask)
    assert (tmp_path / 'x.txt').stat().st_mode & 0o777 == 0o644


def test_bad_mode_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r'x\.txt: mode: .*\'a\''):
        with atomic_write(tmp_path / 'x.txt', mode='a'):
            pass
    assert os.listdir(tmp_path) == []


def test_dump_json_atomic_round_trips(tmp_path: Path) -> None:
    obj = {'classes': ['bottle/broken_large', 'grüße'], 'shots': 5}
    dump_json_atomic(obj, tmp_path / 'sel.json')
    text = (tmp_path / 'sel.json').read_text(encoding='utf-8')
    assert json.loads(text) == obj
    assert 'grüße' in text and text.endswith('\n')


def test_dump_json_atomic_keeps_old_file_on_unserialisable(
        tmp_path: Path) -> None:
    path = tmp_path / 'sel.json'
    dump_json_atomic({'shots': 1}, path)
    with pytest.raises(TypeError):
        dump_json_atomic({'shots': 2, 'bad': object()}, path)
    assert json.loads(path.read_text()) == {'shots': 1}
    assert os.listdir(tmp_path) == ['sel.json']
