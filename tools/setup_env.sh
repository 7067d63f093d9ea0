#!/usr/bin/env bash
# Idempotent set-up of everything mmedgenext needs, into one Python env.
#
#   tools/setup_env.sh PYTHON
#
# PYTHON is the interpreter to install into; `.venv*/bin/python` is created
# when missing. An installed torch/torchvision/numpy (e.g. a user's CUDA
# build) is kept: they are written to a pip constraints file, so nothing
# below upgrades or downgrades them. Without torch, TORCH_SPEC is installed
# (default: the newest tested release). mmcv 2.1.0 with its compiled ops
# comes from tools/mmcv_wheel.sh: the machine's wheel cache, else
# OpenMMLab's prebuilt wheel where one is published for the env's torch and
# CUDA (torch 2.1), else a build. A stamp in the env makes later runs
# instant.
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
PREFIX=$("$PY" -c 'import sys; print(sys.prefix)')
STAMP="$PREFIX/.mmedgenext-setup"
HASH=$( (cat setup.py tools/setup_env.sh tools/mmcv_wheel.sh; echo "$TORCH_SPEC") | sha1sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$HASH" ]; then
  exit 0
fi
PIP="$PY -m pip install --disable-pip-version-check -q"

if "$PY" -c "import torch, torchvision" 2>/dev/null; then
  echo "[setup] keeping the installed torch $("$PY" -c 'import torch; print(torch.__version__)')"
else
  # PyPI's torch is a CUDA build (~5.5 GB in the env; ~6.5 GB with the rest):
  # say so before pip fails half-way with a bare "No space left on device".
  FREE_GB=$(df -Pk "$PREFIX" | awk 'NR == 2 {print int($4 / 1048576)}')
  if [ "$FREE_GB" -lt 8 ]; then
    echo "[setup] only $FREE_GB GB free beside $PY; torch and the OpenMMLab stack need about 8 GB: free some space, or pass an env on another disk (make test PYTHON=/path/to/python)" >&2
    exit 1
  fi
  echo "[setup] installing $TORCH_SPEC (a few minutes)"
  # shellcheck disable=SC2086
  $PIP $TORCH_SPEC
fi
# Everything below installs under these constraints: the env's torch,
# torchvision and numpy stay exactly as they are.
KEEP=$PREFIX/.mmedgenext-keep.txt
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
if ! mmcv_ok; then
  WHEEL=$(tools/mmcv_wheel.sh "$PY")
  $PIP --force-reinstall --no-deps "$WHEEL"
  $PIP "$WHEEL"  # its plain dependencies
  mmcv_ok || { echo "[setup] mmcv.ops does not import; delete $WHEEL and retry" >&2; exit 1; }
fi

echo "[setup] installing mmedgenext and its dependencies"
$PIP -e ".[all,tests]"
"$PY" -c "import mmedgenext, mmdet.models, mmseg.models, mmpretrain.models, timm"
echo "$HASH" > "$STAMP"
echo "[setup] done"
