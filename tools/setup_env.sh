#!/usr/bin/env bash
# Create .venv with the full mmfs_plugin stack. Idempotent: a finished setup is detected by a
# stamp file keyed on this script and setup.py, so a second run returns in about a second.
#
# Environment variables:
#   VENV          where to create the environment (default: .venv)
#   PYTHON        the interpreter to build it from (default: python3.11, else python3)
#   TORCH_SPEC    torch requirement (default: torch==2.13.0; e.g. a CUDA build for GPU users)
#   TORCH_INDEX   extra index URL for torch and torchvision
#                 (e.g. https://download.pytorch.org/whl/cu121, or .../whl/cpu for CPU builds)
#   torchvision is installed in torch's pip command, so pip picks the release that pins this torch
#   (torchvision 0.28.0 requires torch==2.13.0): the R50/R101 configs' backbones start from
#   torchvision://resnet50 / resnet101, which mmengine resolves through torchvision.
#   MMCV_WHEELHOUSE  a folder holding a prebuilt mmcv-2.1.0 wheel (default: ../shared/wheelhouse
#                    when it exists); without one mmcv is built from source (~16 min on 2 cores)
#   TORCH_CUDA_ARCH_LIST  GPU architectures of mmcv's CUDA ops (e.g. "8.0;9.0"); unset, and torch
#                    sees GPUs, it is set to theirs (e.g. 9.0 on an H100/H200) for the mmcv build
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
if [ -z "${MMCV_WHEELHOUSE+x}" ] && [ -d "$root/../shared/wheelhouse" ]; then
  MMCV_WHEELHOUSE="$root/../shared/wheelhouse"
fi
MMCV_WHEELHOUSE=${MMCV_WHEELHOUSE:-}

stamp="$VENV/.mmfs_setup_stamp"
want=$(cat "$0" setup.py 2>/dev/null | sha1sum | cut -c1-16)"-$TORCH_SPEC"
# the stamp says this script finished; finding the package (without importing torch and mmdet,
# 4 s) says the environment is still there
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/python" -c \
    "import importlib.util as u, sys; sys.exit(not (u.find_spec('mmfs_plugin') and u.find_spec('mmfs_data')))" 2>/dev/null; then
  exit 0
fi

fail() { echo "setup_env: FAILED: $*" >&2; exit 1; }
step() { echo "setup_env: $*"; }

[ -x "$VENV/bin/python" ] || { step "creating $VENV with $PYTHON"; "$PYTHON" -m venv "$VENV" || fail "python -m venv"; }
pip="$VENV/bin/python -m pip"
$pip --version >/dev/null || fail "pip missing in $VENV"

step "installing $TORCH_SPEC, the torchvision that requires it, setuptools<81, wheel, ninja"
torch_args=()
[ -n "${TORCH_INDEX:-}" ] && torch_args+=(--extra-index-url "$TORCH_INDEX")
$pip install -q "${torch_args[@]}" "$TORCH_SPEC" torchvision 'setuptools<81' wheel ninja \
  || fail "torch ($TORCH_SPEC) / torchvision / setuptools<81 / wheel / ninja"
# torchvision declares the torch release it was built for: the installed torch must be it, and
# torchvision must import beside it (exit 2: it does not, and torch is a CPU build).
tv_status=0
tv_check=$("$VENV/bin/python" -c "
import importlib.metadata as md
import torch
try:
    from packaging.requirements import Requirement
except ImportError:
    from pip._vendor.packaging.requirements import Requirement
torch_version, tv_version = md.version('torch'), md.version('torchvision')
try:
    import torchvision
except Exception as error:
    message = ' '.join(str(error).split())
    print(f'torchvision {tv_version} does not import beside torch {torch_version} '
          f'({type(error).__name__}: {message})')
    raise SystemExit(2 if torch.version.cuda is None else 1)
pins = [req for req in map(Requirement, md.requires('torchvision') or [])
        if req.name == 'torch' and not req.marker]
for req in pins:
    if not req.specifier.contains(torch_version, prereleases=True):
        print(f'torchvision {tv_version} requires {req}, but torch {torch_version} is installed')
        raise SystemExit(1)
print(f'torchvision {tv_version} (requires {\" \".join(map(str, pins)) or \"any torch\"}) '
      f'with torch {torch_version}')
" 2>&1) || tv_status=$?
tv_check=$(echo "$tv_check" | tail -n 1)
if [ "$tv_status" = 0 ]; then
  step "$tv_check"
elif [ "$tv_status" = 2 ] && [ -z "${TORCH_INDEX:-}" ]; then
  # A CPU torch (e.g. a +cpu wheel from a local folder) beside PyPI's torchvision, a CUDA build:
  # no torchvision for it on the indexes pip reached. A broken torchvision is worse than none.
  $pip uninstall -y -q torchvision || fail "pip uninstall torchvision"
  echo "setup_env: WARNING: $tv_check; the indexes pip reached hold no CPU build of torchvision" \
    "for this torch, so it is left out: set TORCH_INDEX=https://download.pytorch.org/whl/cpu to" \
    "install both from PyTorch's CPU index. tools/train.py does without it: it finds" \
    "torchvision:// weights in torch's hub cache (\$TORCH_HOME/hub/checkpoints)" >&2
else
  fail "torchvision does not match the installed torch: $tv_check"
fi

step "installing mmengine==0.10.7"
$pip install -q 'mmengine==0.10.7' || fail "mmengine==0.10.7"

if ! "$VENV/bin/python" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'" 2>/dev/null; then
  if [ -z "${TORCH_CUDA_ARCH_LIST:-}" ]; then
    gpu_archs=$("$VENV/bin/python" -c "
import torch
if torch.cuda.is_available():
    print(';'.join(sorted({'%d.%d' % torch.cuda.get_device_capability(i)
                           for i in range(torch.cuda.device_count())})))" 2>/dev/null || true)
    if [ -n "$gpu_archs" ]; then
      export TORCH_CUDA_ARCH_LIST=$gpu_archs
      step "TORCH_CUDA_ARCH_LIST is unset: building mmcv's CUDA ops for this machine's GPUs ($gpu_archs)"
    fi
  fi
  mmcv_args=(--no-build-isolation)
  if [ -n "$MMCV_WHEELHOUSE" ] && [ -d "$MMCV_WHEELHOUSE" ]; then
    step "installing mmcv==2.1.0 (wheelhouse: $MMCV_WHEELHOUSE; falls back to a source build)"
    mmcv_args+=(--find-links "$MMCV_WHEELHOUSE")
  else
    step "building mmcv==2.1.0 from source (about 16 minutes on 2 cores)"
  fi
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} $pip install "${mmcv_args[@]}" 'mmcv==2.1.0' \
    || fail "mmcv==2.1.0 (needs gcc, the Python headers, and torch installed first)"
  # A wheel built against another torch ABI imports but its ops do not: rebuild from source.
  if ! "$VENV/bin/python" -c "import mmcv.ops" 2>/dev/null; then
    step "the mmcv wheel does not match this torch: building from source"
    $pip uninstall -y -q mmcv
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} $pip install --no-build-isolation --no-binary mmcv --no-cache-dir 'mmcv==2.1.0' \
      || fail "mmcv==2.1.0 source build"
  fi
fi

step "installing mmdet==3.3.0, pycocotools and the plugin (editable)"
$pip install -q 'mmdet==3.3.0' pycocotools || fail "mmdet==3.3.0 / pycocotools"
$pip install -q --no-build-isolation --no-deps -e . || fail "pip install -e . (the plugin)"
$pip install -q -e '.[tests]' --no-build-isolation || fail "test extras"

step "checking the result"
"$VENV/bin/python" - <<'PY' || fail "the installed stack does not import (see above)"
import mmcv, mmcv.ops, mmengine, mmdet, torch
import mmfs_plugin
try:
    import torchvision
    tv = torchvision.__version__
except ImportError:
    tv = 'none (see the warning above)'
assert mmcv.__version__ == '2.1.0', f'mmcv {mmcv.__version__} != 2.1.0'
assert mmengine.__version__ == '0.10.7', f'mmengine {mmengine.__version__} != 0.10.7'
assert mmdet.__version__ == '3.3.0', f'mmdet {mmdet.__version__} != 3.3.0'
print(f'setup_env: ok: torch {torch.__version__}, torchvision {tv}, mmcv {mmcv.__version__} (ops), '
      f'mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, mmfs_plugin {mmfs_plugin.__version__}')
PY
echo "$want" > "$stamp"
