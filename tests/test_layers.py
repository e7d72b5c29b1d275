"""No module imports a layer above its own (the layers of docs/architecture.md)."""
import ast
from pathlib import Path
from typing import Dict, Iterator, Tuple

ROOT = Path(__file__).resolve().parents[1]
#: Each unit (a subpackage or top-level module) and its layer; a unit imports only units of
#: lower layers. Units of one layer stand side by side and do not import each other.
LAYERS: Dict[str, int] = {
    'mmfs_data.errors': 0, 'mmfs_data.fileio': 0, 'mmfs_plugin.version': 0,
    'mmfs_data.fewshot': 1,
    'mmfs_data.formats': 2,
    'mmfs_data.synthetic': 3,
    'mmfs_plugin.compat': 4, 'mmfs_plugin.models': 4, 'mmfs_plugin.evaluation': 4,
    'mmfs_plugin.datasets': 4, 'mmfs_plugin.visualization': 4, 'mmfs_plugin.experiments': 4,
    'mmfs_plugin.engine': 5,
    'mmfs_plugin': 6,
}
PACKAGES = ('mmfs_data', 'mmfs_plugin')


def _unit(module: str) -> str:
    return '.'.join(module.split('.')[:2])


def _imports() -> Iterator[Tuple[Path, str, str]]:
    """(file, importing unit, imported module) for every import of the two packages."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob('*.py')):
            parts = list(path.relative_to(ROOT).with_suffix('').parts)
            is_package = parts[-1] == '__init__'
            module = '.'.join(parts[:-1] if is_package else parts)
            for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
                if isinstance(node, ast.ImportFrom) and node.level:
                    base = module.split('.') if is_package else module.split('.')[:-1]
                    base = base[:len(base) - node.level + 1]
                    if node.module:
                        targets = ['.'.join(base + [node.module])]
                    else:  # from . import a, b
                        targets = ['.'.join(base + [alias.name]) for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    targets = [node.module or '']
                elif isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                else:
                    continue
                for target in targets:
                    if target.split('.')[0] in PACKAGES:
                        yield path, module, target


def test_every_unit_has_a_layer():
    units = {_unit(module) for _, module, _ in _imports()}
    units |= {_unit(target) for _, _, target in _imports()}
    assert units <= set(LAYERS), sorted(units - set(LAYERS))


def test_no_module_imports_a_layer_above_or_beside_its_own():
    wrong = []
    for path, module, target in _imports():
        source, imported = _unit(module), _unit(target)
        if source != imported and LAYERS[imported] >= LAYERS[source]:
            wrong.append(f'{path.relative_to(ROOT)}: {target} (layer {LAYERS[imported]}) from '
                         f'layer {LAYERS[source]}')
    assert not wrong, '\n'.join(wrong)
