#!/usr/bin/env bash
# Idempotent set-up of everything mmedgenext needs, into one Python env.
#
#   tools/setup_env.sh PYTHON
#
# PYTHON is the interpreter to install into; `.venv*/bin/python` is created
# when missing. An installed torch/torchvision/numpy (e.g. a user's CUDA
# build) is kept: they are written to a pip constraints file, so nothing
# below upgrades or downgrades them. Without torch, TORCH_SPEC is installed
# (default: the newest tested release). mmcv 2.1.0 only ships as source: it
# is built once with its compiled ops (mmdet's NMS needs them), patched to
# C++20 when torch >= 2.10 (its headers require it), and the wheel is cached
# per torch version in ~/.cache/mmedgenext/wheels. A stamp in the env makes
# later runs instant.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:?usage: tools/setup_env.sh PYTHON}

TORCH_SPEC=${TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}
MMCV_VERSION=2.1.0

case "$PY" in
  .venv*/bin/python)
    if [ ! -x "$PY" ]; then
      echo "[setup] creating ${PY%/bin/python}"
      python3 -m venv "${PY%/bin/python}"
    fi ;;
esac
STAMP="$("$PY" -c 'import sys; print(sys.prefix)')/.mmedgenext-setup"
HASH=$( (cat setup.py tools/setup_env.sh; echo "$TORCH_SPEC") | sha1sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$HASH" ]; then
  exit 0
fi
PIP="$PY -m pip install --disable-pip-version-check -q"

if "$PY" -c "import torch, torchvision" 2>/dev/null; then
  echo "[setup] keeping the installed torch $("$PY" -c 'import torch; print(torch.__version__)')"
else
  echo "[setup] installing $TORCH_SPEC (a few minutes)"
  # shellcheck disable=SC2086
  $PIP $TORCH_SPEC
fi
# Everything below installs under these constraints: the env's torch,
# torchvision and numpy stay exactly as they are.
KEEP=$("$PY" -c 'import sys; print(sys.prefix)')/.mmedgenext-keep.txt
"$PY" - > "$KEEP" <<'PYEOF'
from importlib.metadata import PackageNotFoundError, version
for name in ('torch', 'torchvision', 'numpy'):
    try:
        print(f'{name}=={version(name)}')
    except PackageNotFoundError:
        pass
PYEOF
# NNCF 3 reads torch.uint16 when it imports (torch >= 2.3): on an older
# torch the last NNCF 2 release (2.19), which runs there with the same
# OpenVINO.
if "$PY" -c 'import sys, torch; sys.exit(tuple(map(int, torch.__version__.split(".")[:2])) >= (2, 3))'; then
  echo "nncf<3" >> "$KEEP"
fi
PIP="$PIP -c $KEEP"
# mmengine's mmdet::/mmseg:: config paths need pkg_resources (setuptools<81).
$PIP "setuptools<81" wheel ninja

mmcv_ok() {
  "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null
}
build_mmcv() {  # $1: wheel directory
  local src
  src=$(mktemp -d)
  echo "[setup] building mmcv $MMCV_VERSION with ops (about 15 minutes on 2 cores, once per machine)"
  "$PY" -m pip download --disable-pip-version-check -q --no-deps \
    --no-build-isolation "mmcv==$MMCV_VERSION" -d "$src"
  tar xzf "$src/mmcv-$MMCV_VERSION.tar.gz" -C "$src"
  if "$PY" -c 'import sys, torch; sys.exit(tuple(map(int, torch.__version__.split(".")[:2])) < (2, 10))'; then
    sed -i 's/-std=c++1[47]/-std=c++20/g' "$src/mmcv-$MMCV_VERSION/setup.py"
  fi
  MMCV_WITH_OPS=1 MAX_JOBS=$(nproc) "$PY" -m pip wheel --disable-pip-version-check \
    -q --no-build-isolation --no-deps "$src/mmcv-$MMCV_VERSION" -w "$1"
  rm -rf "$src"
}
if ! mmcv_ok; then
  TV=$("$PY" -c 'import torch; print(torch.__version__)')
  WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/mmedgenext/wheels/torch-$TV"
  mkdir -p "$WHEELS"
  ls "$WHEELS"/mmcv-$MMCV_VERSION-*.whl >/dev/null 2>&1 || build_mmcv "$WHEELS"
  $PIP --force-reinstall --no-deps "$WHEELS"/mmcv-$MMCV_VERSION-*.whl
  $PIP "$WHEELS"/mmcv-$MMCV_VERSION-*.whl  # its plain dependencies
  mmcv_ok || { echo "[setup] mmcv.ops does not import; delete $WHEELS and retry" >&2; exit 1; }
fi

echo "[setup] installing mmedgenext and its dependencies"
$PIP -e ".[tests]"
"$PY" -c "import mmedgenext, mmdet.models, mmseg.models, mmpretrain.models, timm"
echo "$HASH" > "$STAMP"
echo "[setup] done"
