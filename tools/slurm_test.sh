#!/usr/bin/env bash
# MMDetection's tools/slurm_test.sh, with srun as tools/slurm_train.sh runs it:
#   tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
# GPUS (tasks), GPUS_PER_NODE, CPUS_PER_TASK and SRUN_ARGS from the environment, as mmdet's;
# GPUS_PER_NODE=0 asks for no GPUs: GPUS tasks on one node test on CPU (gloo).

TOOL=test.py TOOL_ARGS="$4" exec "$(dirname "$0")/slurm_train.sh" "$@"
