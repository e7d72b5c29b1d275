"""Set methods side by side: several ``tools/fewshot/run_seeds.py`` experiments on the same
shots and seeds.

    python tools/analysis_tools/compare_methods.py --method recipe=work_dirs/neu_det/recipe \\
        --method plain=work_dirs/neu_det/plain_keep --reference plain \\
        --out work_dirs/neu_det/comparison.md --plot work_dirs/neu_det/nap50.png

Writes a Markdown table (per shots and method: the mean over seeds and its 95% confidence
interval, Student's t, of each metric in percent; with ``--oracle``, the first metric as a
fraction of the full-data oracle's; the paired difference to the reference method over the
seeds both ran; the mean wall time of training and testing in seconds) and a plot of the first
metric against shots, one curve per method with 95% CI bars. A method is a run_seeds work dir or
its ``results.csv``.
"""
import argparse
import sys
from typing import Optional, Sequence

from mmfs_plugin.experiments.comparison import (comparison_table, load_experiment,
                                                plot_methods_against_shots)
from mmfs_data.fileio import atomic_write

DEFAULT_METRICS = ('fs/bbox_nAP50', 'fs/bbox_nAP', 'fs/bbox_bAP50')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        argparse.Namespace: The arguments, ``method`` as a list of (name, folder).
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--method', action='append', required=True, metavar='NAME=WORK_DIR',
                        help='a method and its run_seeds work dir or its results.csv (repeat; '
                        'rows keep this order)')
    parser.add_argument('--reference', help='the anchor method the others are compared with')
    parser.add_argument('--metrics', nargs='+', default=list(DEFAULT_METRICS),
                        help=f'metrics, the first one plotted (default: {DEFAULT_METRICS})')
    parser.add_argument('--out', required=True, help='the Markdown table to write')
    parser.add_argument('--plot', help='the PNG plot of the first metric to write')
    parser.add_argument('--oracle', type=float, metavar='VALUE',
                        help="the full-data oracle's value of the first metric (a fraction, "
                        'e.g. 0.83): a column gives each mean as a fraction of it')
    args = parser.parse_args(argv)
    methods = []
    for item in args.method:
        name, sep, folder = item.partition('=')
        if not sep or not name or not folder:
            parser.error(f'--method {item!r}: expected NAME=WORK_DIR')
        methods.append((name, folder))
    if args.oracle is not None and not 0 < args.oracle <= 1:
        parser.error(f'--oracle {args.oracle}: expected a fraction in (0, 1] (0.83 for '
                     '83.0 AP50)')
    if args.reference and args.reference not in dict(methods):
        parser.error(f'--reference {args.reference!r}: not one of the --method names')
    args.method = methods
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Write the table (and the plot).

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: 0, or 1 when a method has no finished run.
    """
    args = parse_args(argv)
    experiments = {name: load_experiment(folder) for name, folder in args.method}
    empty = [name for name, runs in experiments.items() if not runs]
    if empty:
        print(f'compare_methods: error: no finished run for {empty}', file=sys.stderr)
        return 1
    table = comparison_table(experiments, args.metrics, args.reference, oracle=args.oracle)
    with atomic_write(args.out, 'w') as f:
        f.write(table)
    if args.plot:
        plot_methods_against_shots(experiments, args.metrics[0], args.plot)
    print(table, end='')
    return 0


if __name__ == '__main__':
    sys.exit(main())
