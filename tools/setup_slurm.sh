#!/usr/bin/env bash
# What tests/test_slurm.py starts a one-node Slurm cluster with: Debian's
# slurm-wlm and munge, installed with apt-get as root. CI (.ci/run) runs it
# before `make test`; on a workstation run it yourself if you want that test
# (`sudo tools/setup_slurm.sh`), which otherwise skips, saying why.
set -euo pipefail
if command -v srun >/dev/null && [ -x /usr/sbin/slurmd ] \
    && [ -x /usr/sbin/munged ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "[setup] Slurm not installed (needs apt-get as root): its test skips"
  # CI runs the Slurm test: a machine that cannot install it fails here.
  [ "${CI:-}" != true ] || exit 1
  exit 0
fi
echo "[setup] installing slurm-wlm and munge for the Slurm test (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq slurm-wlm munge >/dev/null
