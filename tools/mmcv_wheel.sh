#!/usr/bin/env bash
# Prints the path of an mmcv 2.1.0 wheel with compiled ops (mmdet's NMS needs
# them) for the torch of one Python env; messages go to stderr.
#
#   tools/mmcv_wheel.sh PYTHON
#
# Where the wheel comes from, first found first:
# 1. the machine's cache, ~/.cache/mmedgenext/wheels/torch-<torch version>/
#    ($XDG_CACHE_HOME is honoured; a wheel of your own may be put there);
# 2. OpenMMLab's prebuilt wheels, the index `mim install` reads:
#    $MMEDGENEXT_MMCV_INDEX/<cpu|cu118|cu121>/torch2.1/index.html, default
#    https://download.openmmlab.com/mmcv/dist. mmcv 2.1.0 is published there
#    for torch 2.1 only (Linux x86_64; CPU, CUDA 11.8 and 12.1: mmcv's
#    docs/en/_static/version.json), and pip takes the file built for this
#    Python or none; MMEDGENEXT_MMCV_INDEX names a mirror of that layout;
# 3. otherwise a build from the source release (about 30 minutes on 2
#    cores), its C++ standard raised to C++20 for torch >= 2.10 (whose
#    headers need it).
# A wheel from 2 or 3 is stored in the cache, so each happens once per
# machine and torch version. The build needs setuptools, wheel and ninja in
# the env (setup_env.sh installs them first).
set -euo pipefail
PY=${1:?usage: tools/mmcv_wheel.sh PYTHON}
MMCV_VERSION=2.1.0
INDEX=${MMEDGENEXT_MMCV_INDEX:-https://download.openmmlab.com/mmcv/dist}

# The torch version and OpenMMLab's folder for it ('-' when none is
# published): <cpu|cuXYZ>/torch<major.minor>.
read -r TORCH_VERSION PREBUILT < <("$PY" - <<'PYEOF'
import torch

PUBLISHED = {'2.1': ('cpu', 'cu118', 'cu121')}
minor = '.'.join(torch.__version__.split('+')[0].split('.')[:2])
if getattr(torch.version, 'hip', None):
    variant = None
elif torch.version.cuda is None:
    variant = 'cpu'
else:
    variant = 'cu' + torch.version.cuda.replace('.', '')
folder = (f'{variant}/torch{minor}'
          if variant in PUBLISHED.get(minor, ()) else '-')
print(torch.__version__, folder)
PYEOF
)
WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/mmedgenext/wheels/torch-$TORCH_VERSION"

cached_wheel() {
  ls "$WHEELS"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n 1
}

prebuilt_wheel() {  # $1: download directory
  [ "$PREBUILT" != - ] || return 1
  echo "[setup] looking for OpenMMLab's prebuilt mmcv $MMCV_VERSION in" \
    "$INDEX/$PREBUILT" >&2
  "$PY" -m pip download --disable-pip-version-check -q --no-deps \
    --no-index --only-binary=:all: -f "$INDEX/$PREBUILT/index.html" \
    "mmcv==$MMCV_VERSION" -d "$1" >&2 || {
    echo "[setup] no prebuilt mmcv $MMCV_VERSION there for this Python" >&2
    return 1
  }
}

build_wheel() {  # $1: output directory
  local src
  src=$(mktemp -d)
  echo "[setup] building mmcv $MMCV_VERSION with ops for torch" \
    "$TORCH_VERSION (about 30 minutes on 2 cores, once per machine)" >&2
  "$PY" -m pip download --disable-pip-version-check -q --no-deps \
    --no-build-isolation "mmcv==$MMCV_VERSION" -d "$src" >&2
  tar xzf "$src/mmcv-$MMCV_VERSION.tar.gz" -C "$src"
  if "$PY" -c 'import sys, torch; sys.exit(tuple(map(int, torch.__version__.split(".")[:2])) < (2, 10))'; then
    sed -i 's/-std=c++1[47]/-std=c++20/g' "$src/mmcv-$MMCV_VERSION/setup.py"
  fi
  MMCV_WITH_OPS=1 MAX_JOBS=$(nproc) "$PY" -m pip wheel \
    --disable-pip-version-check -q --no-build-isolation --no-deps \
    "$src/mmcv-$MMCV_VERSION" -w "$1" >&2
  rm -rf "$src"
}

if [ -z "$(cached_wheel)" ]; then
  NEW=$(mktemp -d)
  prebuilt_wheel "$NEW" || build_wheel "$NEW"
  mkdir -p "$WHEELS"
  mv "$NEW"/mmcv-$MMCV_VERSION-*.whl "$WHEELS"/
  rm -rf "$NEW"
fi
cached_wheel
