#!/usr/bin/env bash
# On the air-gapped CUDA machine, from the repository root with the wheelhouse in .whl/: install the missing wheels
# into a private folder and run one part of the main-environment notebooks on gpu-small, English only, executed once,
# then store the results under docs/results/<gpu>/ (make gpu-run PART=1, then PART=2; each under 10 minutes on an H100).
# Usage: scripts/gpu/run.sh PART [PROFILE]      PART 1: 00, 01, 02 ; PART 2: 03, 06, setup_check
set -euo pipefail
part=${1:?usage: scripts/gpu/run.sh 1|2 [profile]}
profile=${2:-gpu-small}
case "$part" in
  1) only="00_*,01_*,02_*" ;;
  2) only="03_*,06_*,setup_check" ;;
  *) echo "PART must be 1 or 2" >&2; exit 2 ;;
esac
site=${GPUGUIDE_SITE:-/tmp/gpuguide-site}
if [ -d .whl ] && [ ! -f "$site/.installed" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" .whl/*.whl
  touch "$site/.installed"
fi
export PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 KINETO_LOG_LEVEL=6
export JUPYTER_PATH="$site/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
python3 -m ipykernel install --prefix "$site" --name python3 >/dev/null 2>&1 || true
python3 -m gpuguide_suite run --profile "$profile" --lang en --execute once --only "$only" --out build
python3 -m gpuguide_suite store --out build --command "scripts/gpu/run.sh $part $profile"
