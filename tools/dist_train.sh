#!/usr/bin/env bash
# MMDetection's tools/dist_train.sh, with torchrun (torch.distributed.launch is deprecated):
#   tools/dist_train.sh CONFIG GPUS [train.py options]
# GPUS processes per node (CPU processes on a machine without GPUs); NNODES, NODE_RANK,
# MASTER_ADDR and PORT from the environment, as mmdet's; PYTHON, the interpreter (default: the
# python on PATH, e.g. of an activated .venv). tools/dist_test.sh runs test.py through it
# (TOOL, TOOL_ARGS).

CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
${PYTHON:-python} -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    "$(dirname "$0")/${TOOL:-train.py}" \
    "$CONFIG" \
    ${TOOL_ARGS} \
    --launcher pytorch "${@:3}"
