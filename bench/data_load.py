"""Dataset build cost of ``MVTecFSDataset``, measured side by side in one run.

On an MVTec-FS-shaped tree (generated at ``--scale`` into a temporary folder unless ``--root``
is given) the script prints medians over ``--repeats`` runs of:

- build: both splits built end to end with the dataset's defaults but ``cache=False``
  (listing, reading, ``data_list``, serialization; the cache has rows of its own) against a
  bare ``json.load`` of the same files, the runs alternating (target <= 2.0x); for reference,
  the same build with ``check_images=True`` (every image header read: not the default);
- cache: the second build with the defaults (``cache=True``) against the first, which starts
  from an empty cache folder and writes it (target >= 5x);
- scaling: the tree replicated 1x, 4x, 16x (category folders symlinked under new names);
  build time per file must stay flat (target: 16x / 1x <= 1.25);
- memory: the private (USS), proportional (PSS) and resident (RSS) memory of 4 DataLoader
  workers after a pass over the 16x tree, ``serialize_data`` True vs False (target: the
  serialized workers hold less private memory, i.e. no per-worker copy of ``data_list``).

    python bench/data_load.py [--root DIR] [--scale 0.25] [--repeats 5]
                              [--parts build cache scaling memory]
"""
import argparse
import gc
import json
import os
import statistics
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

import mmfs_plugin  # noqa: F401
from mmfs_plugin.datasets import MVTecFSDataset
from mmfs_plugin.formats.mvtec_fs_layout import IMAGE_FOLDER, list_annotation_files
from mmfs_plugin.formats.mvtec_fs_table import mvtec_fs_classes
from mmfs_plugin.synthetic.generator import generate_synthetic_mvtecfs

SPLITS = ('train', 'test')
BUILD_TARGET = 2.0
CACHE_TARGET = 5.0
SCALING_TARGET = 1.25
REPLICAS = (1, 4, 16)
NUM_WORKERS = 4
PARTS = ('build', 'cache', 'scaling', 'memory')


def median_seconds(fn: Callable[[], object], repeats: int,
                   setup: Optional[Callable[[], None]] = None) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs (``setup`` runs untimed before each)."""
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def alternating_medians(fns: Sequence[Callable[[], object]], repeats: int) -> List[float]:
    """Median wall time of each of ``fns`` over ``repeats`` rounds that run each once.

    The order reverses every round, so that machine drift and the order hit all alike.
    """
    times: List[List[float]] = [[] for _ in fns]
    for round_index in range(repeats):
        order = range(len(fns)) if round_index % 2 == 0 else reversed(range(len(fns)))
        for index in order:
            times[index].append(median_seconds(fns[index], 1))
    return [statistics.median(t) for t in times]


def replicate(root: str, copies: int, out: str) -> Tuple[str, List[str]]:
    """Make a tree of ``copies`` times ``root``'s categories (symlinked under new names).

    Returns:
        tuple[str, list[str]]: The new root and its class list.
    """
    categories = sorted(os.listdir(os.path.join(root, IMAGE_FOLDER)))
    os.makedirs(os.path.join(out, IMAGE_FOLDER))
    classes = []
    for copy in range(copies):
        for category in categories:
            name = category if copy == 0 else f'{category}_copy{copy}'
            os.symlink(os.path.abspath(os.path.join(root, IMAGE_FOLDER, category)),
                       os.path.join(out, IMAGE_FOLDER, name))
            classes += [f'{name}/{defect.split("/", 1)[1]}'
                        for defect in mvtec_fs_classes([category])]
    return out, classes


class Tree:
    """An MVTec-FS-shaped tree with its class list and its annotation files."""

    def __init__(self, root: str, classes: Optional[List[str]] = None) -> None:
        self.root = root
        self.classes = classes
        self.files = [os.path.join(root, relpath) for split in SPLITS
                      for relpath in list_annotation_files(root, split)]

    def build(self, split: str, **kwargs) -> MVTecFSDataset:
        """Build one split (``pipeline=[]``: the annotations only)."""
        metainfo = None if self.classes is None else dict(classes=self.classes)
        return MVTecFSDataset(data_root=self.root, split=split, metainfo=metainfo, pipeline=[],
                              **kwargs)

    def build_all(self, **kwargs) -> None:
        for split in SPLITS:
            self.build(split, **kwargs)

    def json_load_all(self) -> None:
        for path in self.files:
            with open(path, encoding='utf-8') as f:
                json.load(f)


def memory_kib(pid: int) -> Dict[str, int]:
    """USS, PSS and RSS of a process in KiB, from ``/proc/<pid>/smaps_rollup``."""
    fields = {}
    with open(f'/proc/{pid}/smaps_rollup') as f:
        for line in f:
            key, _, rest = line.partition(':')
            if rest.strip().endswith('kB'):
                fields[key] = int(rest.split()[0])
    return dict(uss=fields['Private_Clean'] + fields['Private_Dirty'], pss=fields['Pss'],
                rss=fields['Rss'])


def worker_memory(dataset: MVTecFSDataset) -> Dict[str, float]:
    """Median memory of the DataLoader workers after each has fetched its share once."""
    loader = DataLoader(dataset, batch_size=8, num_workers=NUM_WORKERS,
                        collate_fn=lambda batch: batch, prefetch_factor=1)
    iterator = iter(loader)
    for _ in range(len(loader) - NUM_WORKERS):  # the rest are fetched: every item was touched
        next(iterator)
    pid = os.getpid()
    with open(f'/proc/{pid}/task/{pid}/children') as f:
        workers = [int(child) for child in f.read().split()]
    usage = [memory_kib(worker) for worker in workers]
    del iterator
    return {key: statistics.median(u[key] for u in usage) / 1024 for key in ('uss', 'pss', 'rss')}


def verdict(ok: bool) -> str:
    return 'PASS' if ok else 'FAIL'


Row = Tuple[str, str, str]


def measure_build(tree: Tree, repeats: int) -> List[Row]:
    """The build (cache off) against ``json.load`` of the same files, runs alternating."""
    json_s, build_s, checked_s = alternating_medians(
        [tree.json_load_all, lambda: tree.build_all(cache=False),
         lambda: tree.build_all(cache=False, check_images=True)], repeats)
    ratio = build_s / json_s
    return [('json.load, both splits', f'{json_s * 1e3:8.1f} ms', ''),
            ('dataset build (cache off)', f'{build_s * 1e3:8.1f} ms', ''),
            ('build / json.load', f'{ratio:8.2f} x',
             f'{verdict(ratio <= BUILD_TARGET)} (<= {BUILD_TARGET})'),
            ('build, check_images=True', f'{checked_s * 1e3:8.1f} ms',
             f'{checked_s / json_s:.2f} x json.load (not the default)')]


def measure_cache(tree: Tree, work: str, repeats: int) -> List[Row]:
    """The first build into an empty cache folder against the second (a cache hit)."""
    pairs = []
    for index in range(repeats):
        cache_dir = os.path.join(work, f'cache{index}')
        first = median_seconds(lambda: tree.build_all(cache_dir=cache_dir), 1)
        second = median_seconds(lambda: tree.build_all(cache_dir=cache_dir), 1)
        pairs.append((first, second))
    first_s = statistics.median(p[0] for p in pairs)
    second_s = statistics.median(p[1] for p in pairs)
    speedup = first_s / second_s
    return [('first build (cache on, cold)', f'{first_s * 1e3:8.1f} ms', ''),
            ('second build (cache hit)', f'{second_s * 1e3:8.1f} ms', ''),
            ('cache speed-up', f'{speedup:8.2f} x',
             f'{verdict(speedup >= CACHE_TARGET)} (>= {CACHE_TARGET})')]


def measure_scaling(tree: Tree, work: str, repeats: int) -> Tuple[List[Row], Tree]:
    """Build time per file on the tree replicated; also returns the largest replica."""
    rows, per_file = [], {}
    for copies in REPLICAS:
        replica = tree if copies == 1 else Tree(
            *replicate(tree.root, copies, os.path.join(work, f'x{copies}')))
        seconds = median_seconds(lambda: replica.build_all(cache=False),
                                 max(1, repeats // copies) if copies > 1 else repeats)
        per_file[copies] = seconds / len(replica.files)
        rows.append((f'{copies:>2}x tree: {len(replica.files)} files',
                     f'{per_file[copies] * 1e6:8.1f} us/file', ''))
    growth = per_file[REPLICAS[-1]] / per_file[1]
    rows.append((f'{REPLICAS[-1]}x / 1x time per file', f'{growth:8.2f} x',
                 f'{verdict(growth <= SCALING_TARGET)} (<= {SCALING_TARGET})'))
    return rows, replica


def measure_memory(largest: Tree) -> List[Row]:
    """DataLoader workers' memory with and without ``serialize_data``."""
    memory = {serialize: worker_memory(largest.build('train', cache=False,
                                                     serialize_data=serialize))
              for serialize in (True, False)}
    rows = [(f'{NUM_WORKERS} workers, serialize_data={serialize}',
             f'USS {usage["uss"]:.1f} / PSS {usage["pss"]:.1f} / RSS {usage["rss"]:.1f} MiB', '')
            for serialize, usage in memory.items()]
    ok = memory[True]['uss'] < memory[False]['uss']
    rows.append(('worker USS, serialized < not',
                 f'{memory[True]["uss"] - memory[False]["uss"]:+8.1f} MiB', verdict(ok)))
    return rows


def run(tree: Tree, work: str, repeats: int, parts: Sequence[str] = PARTS) -> List[Row]:
    """Measure the chosen parts; return the table rows (measure, value, verdict)."""
    rows = []
    if 'build' in parts:
        rows += measure_build(tree, repeats)
    if 'cache' in parts:
        rows += measure_cache(tree, work, repeats)
    largest = None
    if 'scaling' in parts:
        scaling_rows, largest = measure_scaling(tree, work, repeats)
        rows += scaling_rows
    if 'memory' in parts:
        if largest is None:
            largest = Tree(*replicate(tree.root, REPLICAS[-1],
                                      os.path.join(work, f'x{REPLICAS[-1]}')))
        rows += measure_memory(largest)
    return rows


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', help='an MVTec-FS tree (default: generate one)')
    parser.add_argument('--scale', type=float, default=0.25,
                        help='image scale of the generated tree (default: 0.25)')
    parser.add_argument('--repeats', type=int, default=5, help='runs per median (default: 5)')
    parser.add_argument('--parts', nargs='+', choices=PARTS, default=list(PARTS),
                        help='what to measure (default: all)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    init_default_scope('mmdet')
    with tempfile.TemporaryDirectory(prefix='mmfs_bench_') as work:
        root = args.root
        if root is None:
            root = os.path.join(work, 'tree')
            generate_synthetic_mvtecfs(root, like_mvtec_fs=True, scale=args.scale)
        tree = Tree(root)
        print(f'{root}: {len(tree.files)} annotation files, medians of {args.repeats} runs')
        rows = run(tree, work, args.repeats, args.parts)
    width = max(len(row[0]) for row in rows)
    for name, value, result in rows:
        print(f'{name:<{width}}  {value:<40}  {result}')


if __name__ == '__main__':
    main()
