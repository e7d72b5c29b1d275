"""The README's command lines are copy-paste correct (checked in dry-run form).

Every command of the README's shell blocks names files that exist; every Python tool it runs
answers ``--help``; every ``--cfg-options`` key it sets exists in the config it names. The
commands themselves run for real, in tiny form, in the end-to-end, distributed, multi-seed and
demo tests.
"""
import json
import re
import runpy
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[1]
#: The README and the docs it sends a reader to: their commands are checked alike.
README = ''.join(path.read_text() for path in [
    ROOT / 'README.md', *sorted(ROOT.glob('docs/*.md')),
    *sorted(ROOT.glob('configs/**/README.md'))])


def shell_commands() -> list:
    """Commands of the README's ```bash blocks, continuation lines joined, comments dropped."""
    commands = []
    for block in re.findall(r'```bash\n(.*?)```', README, flags=re.S):
        text = block.replace('\\\n', ' ')
        for line in text.splitlines():
            line = line.split('#', 1)[0].strip()
            if line:
                commands.append(line)
    return commands


COMMANDS = shell_commands()
TOOLS = sorted({tok for cmd in COMMANDS for tok in shlex.split(cmd)
                if tok.startswith('tools/') and tok.endswith('.py')})


def test_readme_names_the_two_commands():
    assert 'make demo' in COMMANDS and 'make test' in COMMANDS


def test_referenced_repo_files_exist():
    for cmd in COMMANDS:
        for tok in shlex.split(cmd):
            if tok.startswith(('tools/', 'configs/')) and not set('${*') & set(tok):
                assert (ROOT / tok).exists(), f'README: {cmd!r}: {tok} does not exist'


#: Runs each tool given as ``tool --help`` as ``__main__`` in one interpreter (torch and mmdet
#: are imported once, not once per tool) and prints ``{tool: [exit status, stdout]}``.
_HELP_ALL = """
import contextlib, io, json, runpy, sys
results = {}
for tool in sys.argv[1:]:
    out, sys.argv = io.StringIO(), [tool, '--help']
    status = 0
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(tool, run_name='__main__')
        except SystemExit as exit_:
            status = exit_.code or 0
    results[tool] = [status, out.getvalue()]
print(json.dumps(results))
"""


@pytest.fixture(scope='module')
def help_texts():
    proc = subprocess.run([sys.executable, '-c', _HELP_ALL, *TOOLS], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize('tool', TOOLS)
def test_tools_answer_help(tool, help_texts):
    status, text = help_texts[tool]
    assert status == 0, text[-2000:]
    assert 'usage' in text.lower()


def test_cfg_options_keys_exist_in_their_configs():
    checked = 0
    for cmd in COMMANDS:
        tokens = shlex.split(cmd)
        configs = [tok for tok in tokens if tok.startswith('configs/') and tok.endswith('.py')]
        if '--cfg-options' not in tokens or not configs:
            continue
        cfg = Config.fromfile(str(ROOT / configs[0].replace('{shots}', '5')))  # a template
        for option in tokens[tokens.index('--cfg-options') + 1:]:
            if option.startswith('-'):
                break
            key = option.split('=', 1)[0]
            node = cfg
            for part in key.split('.'):
                if isinstance(node, (list, tuple)):  # mmengine's list index: scheduler.1.end
                    assert part.isdigit() and int(part) < len(node), \
                        f'README: {cmd!r}: {key}: no item {part} in {configs[0]}'
                    node = node[int(part)]
                    continue
                assert part in node, f'README: {cmd!r}: {key} is not a key of {configs[0]}'
                node = node[part]
            checked += 1
    assert checked >= 3


def tool_command_lines() -> list:
    """``(tool, arguments)`` of every README command that runs a Python tool."""
    lines = []
    for cmd in COMMANDS:
        tokens = shlex.split(cmd)
        tools = [i for i, tok in enumerate(tokens)
                 if tok.startswith('tools/') and tok.endswith('.py')]
        if tools:
            lines.append((tokens[tools[0]], tokens[tools[0] + 1:]))
    return lines


@pytest.mark.parametrize('tool, arguments', tool_command_lines())
def test_tool_command_lines_parse(tool: str, arguments: list,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each documented command line is accepted by its tool's own argument parser."""
    namespace = runpy.run_path(str(ROOT / tool), run_name='readme_dry_run')
    monkeypatch.setattr(sys, 'argv', [tool, *arguments])
    try:
        namespace['parse_args']()
    except SystemExit as error:
        pytest.fail(f'README: {tool} {shlex.join(arguments)}: rejected ({error.code})')
