#!/usr/bin/env bash
# MMDetection's tools/dist_test.sh, with torchrun as tools/dist_train.sh runs it:
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
# GPUS processes per node (CPU processes on a machine without GPUs); NNODES, NODE_RANK,
# MASTER_ADDR and PORT from the environment, as mmdet's.

TOOL=test.py TOOL_ARGS="$2" exec "$(dirname "$0")/dist_train.sh" "$1" "$3" "${@:4}"
