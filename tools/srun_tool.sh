#!/usr/bin/env bash
# Run a tool of this folder as SLURM tasks with srun (what slurm_train.sh and
# slurm_test.sh share):
#   tools/srun_tool.sh PARTITION JOB_NAME TOOL [tool arguments]
# GPUS (tasks, default 8), GPUS_PER_NODE (default 8), CPUS_PER_TASK (default 5)
# and SRUN_ARGS come from the environment. GPUS_PER_NODE=0 requests no GPUs:
# the tasks then run on CPU (gloo).
set -euo pipefail
set -x

PARTITION=$1
JOB_NAME=$2
TOOL=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
TASKS_PER_NODE=$GPUS_PER_NODE
GRES=(--gres="gpu:$GPUS_PER_NODE")
if [ "$GPUS_PER_NODE" -eq 0 ]; then
    TASKS_PER_NODE=$GPUS
    GRES=()
fi

# SRUN_ARGS is split into words on purpose.
# shellcheck disable=SC2086
PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    "${GRES[@]}" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$TASKS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    python -u "$(dirname "$0")/$TOOL" "${@:4}"
