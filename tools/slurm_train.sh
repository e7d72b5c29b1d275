#!/usr/bin/env bash
# Training on a SLURM cluster:
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py arguments]
# GPUS (tasks, default 8), GPUS_PER_NODE (default 8), CPUS_PER_TASK (default 5)
# and SRUN_ARGS come from the environment. GPUS_PER_NODE=0 requests no GPUs:
# the tasks then train on CPU (gloo).
set -euo pipefail

exec "$(dirname "$0")/srun_tool.sh" "$1" "$2" train.py "$3" --work-dir="$4" \
    --launcher="slurm" "${@:5}"
