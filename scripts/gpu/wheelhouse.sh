#!/usr/bin/env bash
# On a machine WITH internet: download the wheels the GPU recipe carries (scripts/gpu/wheels.txt) into one folder,
# slim the ones that bundle what a run never loads, and check that the folder leaves room in what may be carried.
# The target has Python 3.12, torch (CUDA 13) and transformers preinstalled (scripts/gpu/preinstalled.txt).
# Usage: scripts/gpu/wheelhouse.sh [OUT_DIR] [EXTRA_PIN ...]   (make gpu-wheelhouse; default OUT_DIR .whl)
# GPUGUIDE_WHEELHOUSE_MIB: the size it must stay under (default 48: 64 MiB carried, less the tree and part 1's archive).
# GPUGUIDE_WHEELHOUSE_PYTHON: the target Python (default 3.12; another only to rehearse the recipe on this machine).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-.whl}; shift || true
limit_mib=${GPUGUIDE_WHEELHOUSE_MIB:-48}
mkdir -p "$out"
platforms=(manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_26_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64
           manylinux2014_x86_64 manylinux_2_12_x86_64 manylinux2010_x86_64 manylinux_2_5_x86_64 manylinux1_x86_64)
args=(--no-deps --only-binary=:all: --python-version "${GPUGUIDE_WHEELHOUSE_PYTHON:-3.12}" --implementation cp -d "$out")
for p in "${platforms[@]}"; do args+=(--platform "$p"); done
python3 -m pip download "${args[@]}" -r "$here/wheels.txt" "$@"

slim() {  # slim 'GLOB' SLIM-WHEEL-ARGS...: every matching wheel, in place
  local pattern=$1; shift
  for w in "$out"/$pattern; do python3 "$here/slim-wheel.py" "$w" "$@"; done
}
# native libraries for every CUDA, ROCm and XPU version: keep CUDA 13's (the target's torch) and the CPU one
slim 'bitsandbytes-*.whl' --drop 'lib[^/]*_(cuda|rocm|xpu|cpu)[^/]*\.so$' --keep 'cuda13[0-9]' --keep '_cpu\.so$'
# CLDR data for every locale: keep the suite's languages (tools/gpuguide_suite/languages.py) and their parents
slim 'babel-*.whl' --drop '^babel/locale-data/' --keep '/(root|en|ar|ja|zh|zh_Hans)\.dat$'
# every model family transformers knows: keep the ones the presets and their tokenizers use, and what auto imports
slim 'transformers-*.whl' --drop '^transformers/models/[a-z0-9_]+/' \
  --keep '^transformers/models/(auto|llama|opt|falcon|bloom|bert|distilbert|gpt2|encoder_decoder|timm_wrapper)/'
# tests, sample data, serif and STIX fonts nobody's chart uses, font-compiler tools matplotlib's PNG output never loads
slim 'pandas-*.whl' --drop '^pandas/tests/'
slim 'matplotlib-*.whl' --drop '^matplotlib/mpl-data/sample_data/' --drop '^matplotlib/mpl-data/fonts/ttf/(DejaVuSerif|STIX)'
slim 'fonttools-*.whl' --drop '^fontTools/(varLib|feaLib|cu2qu|qu2cu|ufoLib|voltLib|otlLib|merge|designspaceLib|mtiLib|svgLib|colorLib|diff)/' \
  --drop '^fonttools-[^/]*\.data/'

size_kib=$(du -sk "$out" | cut -f1)
echo "$out: $(ls "$out"/*.whl | wc -l) wheels, $((size_kib / 1024)) MiB (limit ${limit_mib} MiB)"
if [ "$size_kib" -gt $((limit_mib * 1024)) ]; then
  echo "the wheelhouse is over ${limit_mib} MiB: with the tree and part 1's archive it would not fit the 64 MiB carried" >&2
  exit 1
fi
