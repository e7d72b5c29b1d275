"""Test (and evaluate) a detector: MMDetection's ``tools/test.py`` (the same options) with
mmfs_plugin.

mmdet's own tool (``mmdet/.mim/tools/test.py``) runs with the plugin's classes registered and its
fixes installed. ``--tta`` on a config without ``tta_pipeline`` gets :func:`tta_pipeline` of the
test dataset's pipeline, in a config that inherits the given one: mmdet's default looks for the
pipeline in the innermost dataset (``FewShotDataset`` holds it) and packs fixed ``meta_keys``
(without the ``instances`` that the few-shot metrics read).
"""
import argparse
import os.path as osp
import sys
import tempfile
from typing import List

import mmfs_plugin  # noqa: F401  (registers the plugin, installs the fixes)
from mmfs_plugin.engine.launch import (cpu_wrapper_options, load_tool_config, parse_tool_args,
                                       run_mmdet_tool)

#: ``PackDetInputs``'s default ``meta_keys`` (mmdet 3.3).
PACK_META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                  'flip_direction')


def tta_pipeline(pipeline: List[dict]) -> List[dict]:
    """mmdet's flip TTA of a test pipeline, its last ``PackDetInputs``'s ``meta_keys`` kept.

    Args:
        pipeline (list[dict]): The test pipeline, ending in ``PackDetInputs``.

    Returns:
        list[dict]: The pipeline with a ``TestTimeAug`` of the flipped and the original view
        in place of its last transform, packing its ``meta_keys``, ``flip`` and
        ``flip_direction``.
    """
    meta_keys = tuple(pipeline[-1].get('meta_keys', PACK_META_KEYS))
    meta_keys += tuple(key for key in ('flip', 'flip_direction') if key not in meta_keys)
    flips = [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)]
    return [*pipeline[:-1], dict(type='TestTimeAug', transforms=[
        flips, [dict(type='PackDetInputs', meta_keys=meta_keys)]])]


def parse_args() -> argparse.Namespace:
    """Parse the command line with mmdet's ``tools/test.py`` parser."""
    return parse_tool_args('test.py')


def main() -> None:
    """Test; with ``--tta``, on a config holding a TTA pipeline."""
    args = parse_args()
    cfg = load_tool_config(args)
    with tempfile.TemporaryDirectory() as folder:
        dataset = cfg.test_dataloader.dataset
        if args.tta and 'tta_pipeline' not in cfg and 'pipeline' in dataset:
            # the same file name: the same default work dir and config dump as mmdet's
            config = osp.join(folder, osp.basename(args.config))
            pipeline = tta_pipeline(cfg.to_dict()['test_dataloader']['dataset']['pipeline'])
            with open(config, 'w', encoding='utf-8') as file:
                file.write(f'_base_ = [{osp.abspath(args.config)!r}]\n'
                           f'tta_pipeline = {pipeline!r}\n')
            sys.argv[sys.argv.index(args.config)] = config
        run_mmdet_tool('test.py', cpu_wrapper_options(cfg))


if __name__ == '__main__':
    main()
