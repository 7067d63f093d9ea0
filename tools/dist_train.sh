#!/usr/bin/env bash
# Multi-process training with torchrun, one process per GPU (or per CPU
# worker with gloo):  bash tools/dist_train.sh CONFIG NUM_PROCS [train.py args]
CONFIG=$1
NPROCS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

cd "$(dirname "$0")/.." || exit 1
PYTHONPATH=".:$PYTHONPATH" exec $PYTHON -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROCS" --master_port="$PORT" \
    tools/train.py "$CONFIG" --launcher pytorch "${@:3}"
