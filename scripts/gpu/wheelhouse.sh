#!/usr/bin/env bash
# On a machine WITH internet: download the wheels an air-gapped CUDA machine needs to run the suite, into one folder.
# The target image already has Python 3.12, torch (CUDA 13), transformers' own dependencies (tokenizers,
# huggingface_hub), accelerate, peft, matplotlib, psutil, nvidia-ml-py and safetensors; this adds the notebook runner
# (papermill and a Jupyter kernel), bitsandbytes (slimmed to its CUDA 13 and CPU libraries: 129 MB of native libraries
# for every CUDA, ROCm and XPU version otherwise), ipywidgets, polib, and the pins you name.
# Usage: scripts/gpu/wheelhouse.sh [OUT_DIR] [EXTRA_PIN ...]   (make gpu-wheelhouse; default OUT_DIR .whl)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-.whl}; shift || true
mkdir -p "$out"
pin() { grep -h -E "^$1==" "$root"/requirements/*.txt | head -1; }
platforms=(manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_26_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64)
args=(--no-deps --only-binary=:all: --python-version 3.12 --implementation cp -d "$out")
for p in "${platforms[@]}"; do args+=(--platform "$p"); done
pkgs=("$(pin bitsandbytes)" "$(pin papermill)" "$(pin nbclient)" "$(pin nbformat)" "$(pin transformers)" "$(pin polib)"
      ipykernel jupyter_client jupyter_core traitlets pyzmq tornado comm ipython ipython_pygments_lexers
      matplotlib-inline nest_asyncio ansicolors tenacity entrypoints fastjsonschema jsonschema
      jsonschema-specifications referencing rpds-py platformdirs prompt_toolkit pexpect ptyprocess decorator jedi
      parso stack_data executing asttokens pure_eval wcwidth debugpy ipywidgets widgetsnbextension jupyterlab_widgets)
python3 -m pip download "${args[@]}" "${pkgs[@]}" "$@"
for w in "$out"/bitsandbytes-*.whl; do python3 "$here/slim-wheel.py" "$w" 'cuda13[0-9]' 'cpu'; done
du -sh "$out"
