"""Train a detector: MMDetection's ``tools/train.py`` (the same options) with mmfs_plugin.

mmdet's own tool (``mmdet/.mim/tools/train.py``) runs with the plugin's classes registered and its
fixes installed, after one step of the plugin: the config's pretrained weights (``init_cfg``
checkpoints such as ``torchvision://resnet50``) are found in torch's hub cache or downloaded
there, and weights that cannot be had stop the run with one line (``train: error: ...``) naming
them, the config key and the ``--cfg-options`` that points it at a local file. The local files,
and DDP without device ids for a distributed run on CPU, reach mmdet's tool as ``--cfg-options``.
"""
import argparse
import sys

import mmfs_plugin  # noqa: F401  (registers the plugin, installs the fixes)
from mmfs_plugin.engine.launch import (cpu_wrapper_options, load_tool_config, option_key,
                                       parse_tool_args, run_mmdet_tool)
from mmfs_plugin.engine.pretrained import PretrainedWeightsError, resolve_pretrained


def parse_args() -> argparse.Namespace:
    """Parse the command line with mmdet's ``tools/train.py`` parser."""
    return parse_tool_args('train.py')


def main() -> int:
    """Train; 1 when the pretrained weights cannot be had."""
    cfg = load_tool_config(parse_args())
    try:
        resolved = resolve_pretrained(cfg)
    except PretrainedWeightsError as error:
        print(f'train: error: {error}', file=sys.stderr)
        return 1
    # mmengine then reads a file (without torchvision for torchvision:// names, or a network)
    weights = [f'{option_key(item.key)}={item.file}' for item in resolved
               if item.file != item.checkpoint]
    run_mmdet_tool('train.py', weights + cpu_wrapper_options(cfg))
    return 0


if __name__ == '__main__':
    sys.exit(main())
