#!/usr/bin/env bash
# Distributed training on one or more nodes with torchrun:
#   tools/dist_train.sh CONFIG GPUS [train.py arguments]
# GPUS is the number of processes per node (CPU processes on a machine without
# GPUs). NNODES, NODE_RANK, MASTER_ADDR and PORT come from the environment.
set -euo pipefail

exec "$(dirname "$0")/torchrun_tool.sh" train.py "$2" "$1" --launcher pytorch "${@:3}"
