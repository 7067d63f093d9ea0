#!/usr/bin/env bash
# Training on a Slurm cluster, one task per GPU:
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
# On a partition without GPUs (gloo, one task per CPU worker) request none:
#   GRES= GPUS=2 GPUS_PER_NODE=2 bash tools/slurm_train.sh ...
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
GRES=${GRES-gpu:$GPUS_PER_NODE}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}

cd "$(dirname "$0")/.." || exit 1
PYTHONPATH=".:$PYTHONPATH" srun -p "$PARTITION" --job-name="$JOB_NAME" \
    ${GRES:+--gres="$GRES"} --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 $SRUN_ARGS \
    $PYTHON -u tools/train.py "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher="slurm" "${@:5}"
