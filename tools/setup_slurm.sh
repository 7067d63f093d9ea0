#!/usr/bin/env bash
# What tests/test_slurm.py starts a one-node Slurm cluster with: Debian's
# slurm-wlm and munge, installed with apt-get where it runs as root (CI's
# machines; `make test` calls this). Elsewhere nothing is installed and that
# test skips, saying why.
set -euo pipefail
if command -v srun >/dev/null && [ -x /usr/sbin/slurmd ] \
    && [ -x /usr/sbin/munged ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "[setup] Slurm not installed (needs apt-get as root): its test skips"
  exit 0
fi
echo "[setup] installing slurm-wlm and munge for the Slurm test (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq slurm-wlm munge >/dev/null
