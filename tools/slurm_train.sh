#!/usr/bin/env bash
# MMDetection's tools/slurm_train.sh:
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
# GPUS (tasks), GPUS_PER_NODE, CPUS_PER_TASK and SRUN_ARGS from the environment, as mmdet's;
# GPUS_PER_NODE=0 asks for no GPUs: GPUS tasks on one node train on CPU (gloo).
# tools/slurm_test.sh runs test.py through it (TOOL, TOOL_ARGS in place of --work-dir).

set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
GRES="--gres=gpu:${GPUS_PER_NODE}"
[ "$GPUS_PER_NODE" -eq 0 ] && GRES="" && GPUS_PER_NODE=$GPUS

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    ${GRES} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    ${PYTHON:-python} -u "$(dirname "$0")/${TOOL:-train.py}" ${CONFIG} ${TOOL_ARGS:---work-dir=${WORK_DIR}} \
    --launcher="slurm" "${@:5}"
