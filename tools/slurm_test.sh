#!/usr/bin/env bash
# Testing on a SLURM cluster:
#   tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py arguments]
# GPUS (tasks, default 8), GPUS_PER_NODE (default 8), CPUS_PER_TASK (default 5)
# and SRUN_ARGS come from the environment. GPUS_PER_NODE=0 requests no GPUs:
# the tasks then test on CPU (gloo).
set -euo pipefail

exec "$(dirname "$0")/srun_tool.sh" "$1" "$2" test.py "$3" "$4" \
    --launcher="slurm" "${@:5}"
