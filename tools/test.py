"""Test (and evaluate) a detector: MMDetection 3.3's ``tools/test.py`` with
mmfs_plugin.

Importing :mod:`mmfs_plugin` registers the plugin's classes into mmdet's
registries and installs its compatibility fixes (safe checkpoint loading,
``--launcher pytorch``/``slurm`` on CPU), so any mmdet or mmfs_plugin config
works here.
"""
import argparse
import warnings
from copy import deepcopy

from mmdet.engine.hooks.utils import trigger_visualization_hook
from mmdet.evaluation import DumpDetResults
from mmdet.utils import setup_cache_size_limit_of_dynamo
from mmengine import ConfigDict
from mmengine.config import Config

import mmfs_plugin  # noqa: F401  (registers the plugin, installs the fixes)
from mmfs_plugin.engine import close_distributed
from mmfs_plugin.engine.launch import (add_launch_arguments, build_runner, export_local_rank,
                                       load_launch_config)


def parse_args() -> argparse.Namespace:
    """Parse the command line.

    Returns:
        argparse.Namespace: The arguments.
    """
    parser = argparse.ArgumentParser(
        description='MMDet test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--out',
        type=str,
        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. '
        'If specified, it will be automatically saved '
        'to the work_dir/timestamp/show_dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    add_launch_arguments(parser)
    parser.add_argument(
        '--tta', action='store_true', help='enable test-time augmentation')
    args = parser.parse_args()
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        parser.error(f'--out {args.out}: the dump file must end with .pkl '
                     'or .pickle')
    export_local_rank(args)
    return args


#: ``PackDetInputs``'s default ``meta_keys`` (mmdet 3.3), flips included.
PACK_META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape',
                  'scale_factor', 'flip', 'flip_direction')


def _pipeline_holder(dataset_cfg: ConfigDict) -> ConfigDict:
    """The dataset config that holds the pipeline: the outermost with one.

    A plain dataset holds its own; mmdet's wrappers (``ClassBalancedDataset``)
    hold none and wrap the dataset that does; ``FewShotDataset`` holds the
    pipeline of the dataset it wraps.

    Args:
        dataset_cfg (ConfigDict): The test dataloader's dataset config.

    Returns:
        ConfigDict: The dataset config with a ``pipeline`` key.

    Raises:
        KeyError: If no (wrapped) dataset config has a ``pipeline``.
    """
    holder = dataset_cfg
    while 'pipeline' not in holder:
        if 'dataset' not in holder:
            raise KeyError('test_dataloader.dataset: no (wrapped) dataset '
                           'config has a pipeline')
        holder = holder['dataset']
    return holder


def enable_tta(cfg: Config) -> Config:
    """Wrap the model for test-time augmentation (flip), as mmdet does.

    A missing ``tta_model`` gets mmdet's default (``DetTTAModel``). A missing
    ``tta_pipeline`` is the test pipeline with its final ``PackDetInputs``
    replaced by a horizontal-flip ``TestTimeAug`` (flipped and original
    views) that packs the test pipeline's ``meta_keys`` plus ``flip`` and
    ``flip_direction``: ``instances`` stays there, for ``FewShotCocoMetric``
    and the GT-box scoring of ``FewShotTestLoop``, which averages the views'
    scores (see ``mmfs_plugin.evaluation.fewshot_loops``). The TTA pipeline
    replaces the test pipeline in the dataset config that holds it
    (``FewShotDataset`` included).

    Args:
        cfg (Config): The config.

    Returns:
        Config: The config, changed in place.
    """
    if 'tta_model' not in cfg:
        warnings.warn('Cannot find ``tta_model`` in config, '
                      'we will set it as default.')
        cfg.tta_model = dict(
            type='DetTTAModel',
            tta_cfg=dict(
                nms=dict(type='nms', iou_threshold=0.5), max_per_img=100))
    holder = _pipeline_holder(cfg.test_dataloader.dataset)
    if 'tta_pipeline' not in cfg:
        warnings.warn('Cannot find ``tta_pipeline`` in config, '
                      'we will set it as default.')
        cfg.tta_pipeline = deepcopy(holder.pipeline)
        meta_keys = tuple(cfg.tta_pipeline[-1].get('meta_keys',
                                                   PACK_META_KEYS))
        meta_keys += tuple(key for key in ('flip', 'flip_direction')
                           if key not in meta_keys)
        flip_tta = dict(
            type='TestTimeAug',
            transforms=[
                [
                    dict(type='RandomFlip', prob=1.),
                    dict(type='RandomFlip', prob=0.)
                ],
                [dict(type='PackDetInputs', meta_keys=meta_keys)],
            ])
        cfg.tta_pipeline[-1] = flip_tta
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    holder.pipeline = cfg.tta_pipeline
    return cfg


def main() -> None:
    """Build the runner from the config and the command line, and test."""
    args = parse_args()

    # Reduce the number of repeated compilations and improve testing speed.
    setup_cache_size_limit_of_dynamo()

    cfg = load_launch_config(args)

    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    if args.tta:
        cfg = enable_tta(cfg)

    runner = build_runner(cfg)

    if args.out is not None:
        runner.test_evaluator.metrics.append(
            DumpDetResults(out_file_path=args.out))

    runner.test()


if __name__ == '__main__':
    main()
    close_distributed()
