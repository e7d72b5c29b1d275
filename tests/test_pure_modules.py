"""The protocol, the format parsers and the synthetic generator import neither torch nor mmdet."""
import os
import pkgutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PURE_PACKAGES = ('fewshot', 'formats', 'synthetic', 'experiments')


@pytest.mark.parametrize('package', PURE_PACKAGES)
def test_pure_package_imports_neither_torch_nor_mmdet(package):
    modules = [info.name for info in pkgutil.iter_modules(
        [os.path.join(ROOT, 'mmfs_plugin', package)])]
    assert modules
    # Load the modules without mmfs_plugin/__init__ (which registers the mmdet classes).
    code = '\n'.join([
        'import sys, types, importlib',
        'root = types.ModuleType("mmfs_plugin")',
        'root.__path__ = [sys.argv[1] + "/mmfs_plugin"]',
        'sys.modules["mmfs_plugin"] = root',
        f'for name in {modules!r}:',
        f'    importlib.import_module("mmfs_plugin.{package}." + name)',
        'print(sorted(m for m in ("torch", "mmdet", "mmengine", "mmcv") if m in sys.modules))',
    ])
    out = subprocess.run([sys.executable, '-c', code, ROOT], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '[]'
