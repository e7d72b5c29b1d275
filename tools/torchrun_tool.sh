#!/usr/bin/env bash
# Run a tool of this folder under torchrun, on one or more nodes (what dist_train.sh and
# dist_test.sh share):
#   tools/torchrun_tool.sh TOOL NPROC [tool arguments]
# NNODES, NODE_RANK, MASTER_ADDR and PORT come from the environment.
set -euo pipefail

TOOL=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} \
torchrun \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$(dirname "$0")/$TOOL" \
    "${@:3}"
