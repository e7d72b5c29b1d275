#!/usr/bin/env bash
# Distributed testing on one or more nodes with torchrun:
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py arguments]
# GPUS is the number of processes per node (CPU processes on a machine without
# GPUs). NNODES, NODE_RANK, MASTER_ADDR and PORT come from the environment.
set -euo pipefail

exec "$(dirname "$0")/torchrun_tool.sh" test.py "$3" "$1" "$2" --launcher pytorch "${@:4}"
