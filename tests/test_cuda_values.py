"""What only a GPU produces, fed to the code that reads it: CUDA's profiler operator names, compute capabilities, device
strings, memory sizes, device names, ONNX Runtime provider names and CUDA's error messages, as they really are.

A CPU run never produces these values, so every branch that interprets them would otherwise first run on a GPU.
"""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import gpuguide_utils as gg
from gpuguide_utils.attention import SDPA_OPERATORS, flash_path, fused_sdpa_check, peak_tflops, sdpa_backend
from gpuguide_utils.env import capabilities, capability, describe
from tests.test_env import fake_env

ROOT = Path(__file__).resolve().parents[1]

#: Compute capabilities of the GPUs a reader meets: T4, A100, L4/RTX 4090, H100/H200, B200.
CAPABILITIES = [(7, 5), (8, 0), (8, 9), (9, 0), (10, 0)]

#: torch.cuda.get_device_properties(...).total_memory of real cards (bytes), and the profile "auto" gives them.
CARDS = [("Tesla T4", (7, 5), 15_828_320_256, "gpu-small"), ("NVIDIA L4", (8, 9), 23_034_331_136, "gpu-small"),
         ("NVIDIA A100-PCIE-40GB", (8, 0), 42_505_273_344, "gpu-small"),
         ("NVIDIA A100-SXM4-80GB", (8, 0), 85_097_971_712, "gpu-full"),
         ("NVIDIA H100 80GB HBM3", (9, 0), 85_520_809_984, "gpu-full"),
         ("NVIDIA H200", (9, 0), 150_754_820_096, "gpu-full"),
         ("NVIDIA B200", (10, 0), 191_537_889_280, "gpu-full")]


def _sdpa_operators() -> list[str]:
    """Every aten::_scaled_dot_product_* operator this torch registers (a CPU build lists the CUDA ones too)."""
    return sorted(name for name in torch._C._dispatch_get_all_op_names()
                  if name.startswith("aten::_scaled_dot_product_"))


def test_every_registered_sdpa_operator_has_a_known_backend():
    operators = _sdpa_operators()
    for expected in ("aten::_scaled_dot_product_flash_attention", "aten::_scaled_dot_product_efficient_attention",
                     "aten::_scaled_dot_product_cudnn_attention", "aten::_scaled_dot_product_flash_attention_for_cpu",
                     "aten::_scaled_dot_product_attention_math"):
        assert expected in operators, f"{expected} is no longer registered: check SDPA_OPERATORS and 01/02's text"
    unknown = [name for name in operators if sdpa_backend(name) not in SDPA_OPERATORS.values()]
    assert not unknown, f"torch registers SDPA operators SDPA_OPERATORS does not know: {unknown}"
    assert sdpa_backend("aten::_scaled_dot_product_flash_attention") == "flash"
    assert sdpa_backend("aten::_scaled_dot_product_efficient_attention") == "efficient"
    assert sdpa_backend("aten::_scaled_dot_product_cudnn_attention") == "cudnn"
    assert sdpa_backend("aten::_scaled_dot_product_cudnn_attention_backward") == "cudnn"
    assert sdpa_backend("aten::_scaled_dot_product_flash_attention_for_cpu") == "flash (CPU kernel)"
    assert sdpa_backend("aten::_scaled_dot_product_attention_math") == "math"
    assert sdpa_backend("aten::_scaled_dot_product_fused_attention_overrideable") == "overrideable"
    assert sdpa_backend("aten::_scaled_dot_product_some_future_attention") == "some_future_attention"


def test_the_entry_point_and_the_kernels_inner_operators_name_no_backend():
    inner = [n for n in torch._C._dispatch_get_all_op_names()
             if re.match(r"aten::_(flash|efficient|cudnn)_attention", n)]
    assert inner, "torch's inner attention operators moved: check the names this test feeds"
    for name in inner + ["aten::scaled_dot_product_attention", "aten::bmm", "aten::_softmax",
                         "void pytorch_flash::flash_fwd_kernel<Flash_fwd_kernel_traits<64, 128, 128, 4, false>>",
                         "cudnn_generated_fort_native_sdpa_sm90_flash_fprop_wgmma_f16_knob_7_64x64x64_4x1x1"]:
        assert sdpa_backend(name) is None, name


class _FakeProfile:
    """key_averages() of a torch.profiler run on CUDA: operators and the kernels' own names, one call per layer."""

    def __init__(self, names: list[str], count: int = 22) -> None:
        self.names, self.count = names, count

    def key_averages(self):
        return [SimpleNamespace(key=name, count=self.count) for name in self.names]


def _cuda_profile(backend: str) -> _FakeProfile:
    """What a forward through TinyLlama's 22 SDPA layers records on an H100 with `backend` chosen."""
    kernels = {"flash": ["aten::_flash_attention_forward",
                         "void pytorch_flash::flash_fwd_kernel<Flash_fwd_kernel_traits<64, 128, 128, 4, false>>"],
               "efficient": ["aten::_efficient_attention_forward",
                             "fmha_cutlassF_bf16_aligned_64x128_rf_sm80(PyTorchMemEffAttention::AttentionKernel)"],
               "cudnn": ["aten::_cudnn_attention_forward",
                         "cudnn_generated_fort_native_sdpa_sm90_flash_fprop_wgmma_f16_knob_7_64x64x64_4x1x1"]}[backend]
    names = ["aten::scaled_dot_product_attention", f"aten::_scaled_dot_product_{backend}_attention", *kernels,
             "aten::bmm", "aten::_softmax", "aten::softmax", "void at::native::softmax_warp_forward<float>",
             "ampere_bf16_s16816gemm_bf16_128x64_ldg8_f2f_stages_64x4_tn", "aten::baddbmm"]
    return _FakeProfile(names)


@pytest.mark.parametrize("backend", ["flash", "efficient", "cudnn"])
def test_profiled_attention_ops_keep_the_backend_operator_among_cuda_kernels(backend):
    rows = gg.attention.profiled_attention_ops(_cuda_profile(backend), limit=3)
    assert [sdpa_backend(name) for name, _ in rows if sdpa_backend(name)] == [backend]


def _code_cell(notebook: str, cell_id: str) -> str:
    cells = json.loads((ROOT / "notebooks" / "en" / f"{notebook}.ipynb").read_text(encoding="utf-8"))["cells"]
    return "".join(next(c for c in cells if c.get("id") == cell_id)["source"])


def _solution_code(notebook: str, cell_id: str) -> str:
    return "\n".join(re.findall(r"```python\n(.*?)```", _code_cell(notebook, cell_id), re.S))


def test_02_backend_table_reads_cuda_operator_names(monkeypatch, tmp_path):
    """02's "backend that ran" cell under a profiler that records what an H100 runs: cuDNN in half precision (it
    takes masks too), the memory-efficient kernel in float32."""
    import torch.profiler

    class Recording(_FakeProfile):
        """torch.profiler.profile: records what the fake SDPA below says ran."""

        last: _FakeProfile

        def __init__(self, activities=None) -> None:
            super().__init__([])
            Recording.last = self

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> bool:
            return False

    def sdpa(q, k, v, **kwargs):
        Recording.last.names = _cuda_profile("cudnn" if q.dtype == torch.bfloat16 else "efficient").names
        return q

    monkeypatch.setattr(torch.profiler, "profile", Recording)
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", sdpa)
    results = gg.Results("02_sdpa", tmp_path / "02.json")
    settings = SimpleNamespace(seq_lens=[64], device="cpu", half_dtype=torch.bfloat16)
    model = SimpleNamespace(config=SimpleNamespace(num_attention_heads=4, hidden_size=64))
    namespace = {"gg": gg, "torch": torch, "settings": settings, "model": model, "cuda": False, "results": results}
    exec(_code_cell("02_sdpa", "backends"), namespace)
    rows = {r["variant"]: r["metrics"] for r in results.rows_for("backend that ran")}
    assert rows["bfloat16"] == {"no_mask": "cudnn", "causal": "cudnn", "explicit_mask": "cudnn"}
    assert rows["float32"] == {"no_mask": "efficient", "causal": "efficient", "explicit_mask": "efficient"}


@pytest.mark.parametrize("sm", CAPABILITIES)
def test_capabilities_at_every_compute_capability(sm, monkeypatch):
    import gpuguide_utils.env as env_module

    monkeypatch.setattr(env_module, "flash_attn_importable", lambda: (True, "ok"))
    env = fake_env(compute_capability=sm, versions={"torch": "2.13.0", "bitsandbytes": "0.50.2", "flash-attn": "2.8.3"})
    caps = capabilities(env)
    ampere = sm >= (8, 0)
    for name in ("bf16", "sdpa_flash_backend", "sdpa_cudnn_backend", "flash_attention_2"):
        assert bool(caps[name]) == ampere, (sm, name, caps[name].reason)
        assert f"sm{sm[0]}{sm[1]}" in caps[name].reason, (name, caps[name].reason)
    assert caps["cuda"] and caps["sdpa"] and caps["bitsandbytes_8bit"] and caps["bitsandbytes_4bit"]
    assert ("before the flash backend" in caps["sdpa_cudnn_backend"].reason) == (sm in ((9, 0), (10, 0)))
    path = flash_path(env)
    assert path.label == ("flash_attention_2" if ampere else "sdpa")
    if not ampere:  # a T4: what runs instead, in the words the setup check shows
        assert "float16" in caps["bf16"].reason and "memory-efficient" in caps["sdpa_flash_backend"].reason
        assert path.sdpa_backend is None and "no flash kernel here" in path.reason


@pytest.mark.parametrize("sm", CAPABILITIES)
def test_auto_dtype_and_the_flash_fallback_at_every_compute_capability(sm, monkeypatch):
    from gpuguide_utils.params import half_dtype, native_bf16, resolve_dtype

    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: sm)
    assert native_bf16("cuda:0") == (sm >= (8, 0))
    assert resolve_dtype("auto", "cuda") == half_dtype("cuda") == ("bfloat16" if sm >= (8, 0) else "float16")
    without_package = flash_path(fake_env(compute_capability=sm))
    assert without_package.label == ("sdpa flash backend" if sm >= (8, 0) else "sdpa")


def _fake_cuda(monkeypatch, cards: list[tuple[str, tuple[int, int], int]]) -> None:
    """torch.cuda as a machine with these cards reports them."""
    def properties(index=None):
        index = torch.device(index).index if isinstance(index, (str, torch.device)) else index
        name, (major, minor), memory = cards[index or 0]
        return SimpleNamespace(name=name, major=major, minor=minor, total_memory=memory,
                               uuid="58b5ba3e-1d0c-5d7a-0c1b-3e0f5a6b7c8" + str(index or 0))

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: len(cards))
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", properties)


@pytest.mark.parametrize("name, sm, memory, profile", CARDS)
def test_a_real_cards_memory_picks_its_profile(name, sm, memory, profile, monkeypatch):
    from gpuguide_utils.params import _pick_profile

    _fake_cuda(monkeypatch, [(name, sm, memory)])
    assert _pick_profile("auto", "auto") == _pick_profile("auto", "cuda:0") == profile
    env = describe("cuda:0")
    assert (env.device_type, env.device_name, env.compute_capability, env.sm) == ("cuda", name, sm, f"sm{sm[0]}{sm[1]}")


def test_device_strings_as_cuda_writes_them(monkeypatch):
    from gpuguide_utils.params import ParameterError, _resolve_device

    _fake_cuda(monkeypatch, [("Tesla T4", (7, 5), 15_828_320_256), ("NVIDIA H100 80GB HBM3", (9, 0), 85_520_809_984)])
    assert [_resolve_device(d) for d in ("auto", "cuda", "cuda:0", "cuda:1", str(torch.device("cuda", 1)))] == [
        "cuda", "cuda", "cuda:0", "cuda:1", "cuda:1"]
    assert describe("cuda:1").device_name == "NVIDIA H100 80GB HBM3" and describe("cuda").device_name == "Tesla T4"
    for bad in ("cuda:2", "cuda:x", "gpu", "cuda:"):
        with pytest.raises(ParameterError, match="device="):
            _resolve_device(bad)


def test_nvml_memory_is_matched_by_the_uuid_torch_reports(monkeypatch):
    from gpuguide_utils.memory import _nvml_used_bytes

    _fake_cuda(monkeypatch, [("NVIDIA A100-SXM4-80GB", (8, 0), 85_097_971_712)] * 2)
    uuids = {0: b"GPU-58b5ba3e-1d0c-5d7a-0c1b-3e0f5a6b7c81", 1: "GPU-58b5ba3e-1d0c-5d7a-0c1b-3e0f5a6b7c80"}
    pynvml = types.SimpleNamespace(
        nvmlInit=lambda: None, nvmlShutdown=lambda: None, nvmlDeviceGetCount=lambda: 2,
        nvmlDeviceGetHandleByIndex=lambda i: i, nvmlDeviceGetUUID=lambda h: uuids[h],
        nvmlDeviceGetMemoryInfo=lambda h: SimpleNamespace(used=1000 + h))
    monkeypatch.setitem(sys.modules, "pynvml", pynvml)
    assert _nvml_used_bytes(torch.device("cuda", 0)) == 1001  # torch's device 0 is NVML's index 1 here
    assert _nvml_used_bytes(torch.device("cuda", 1)) == 1000


@pytest.mark.parametrize("device_name, peak", [
    ("Tesla T4", 65.0), ("NVIDIA A100-SXM4-80GB", 312.0), ("NVIDIA A100-PCIE-40GB", 312.0), ("NVIDIA L4", 121.0),
    ("NVIDIA H100 80GB HBM3", 989.0), ("NVIDIA H100 PCIe", 756.0), ("NVIDIA H100 NVL", 835.0), ("NVIDIA H200", 989.0),
    ("NVIDIA H200 NVL", 835.0), ("NVIDIA L40S", 362.0), ("NVIDIA A10G", None), ("NVIDIA GH200 480GB", None),
    ("NVIDIA B200", None), ("NVIDIA GeForce RTX 4090", None)])
def test_peak_tflops_of_the_names_cuda_reports(device_name, peak):
    found = peak_tflops(device_name)
    assert (found[0] if found else None) == peak


def test_ort_provider_names():
    both = fake_env(ort_providers=["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"])
    assert capability("onnxruntime_cuda", both)
    cpu_only = capability("onnxruntime_cuda", fake_env(ort_providers=["CPUExecutionProvider"]))
    assert not cpu_only and "install onnxruntime-gpu" in cpu_only.reason


class _RefusingModel(torch.nn.Module):
    """A model whose forward raises what CUDA's SDPA raises when no allowed backend takes the call."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message
        self.config = SimpleNamespace(_attn_implementation="sdpa", num_attention_heads=71, num_key_value_heads=None,
                                      multi_query=True)

    def forward(self, **kwargs):
        raise RuntimeError(self.message)


@pytest.mark.parametrize("message", ["No available kernel.  Aborting execution.",  # CUDA (sdp_utils.cpp)
                                     "No viable backend for scaled_dot_product_attention was found."])  # CPU
def test_fused_check_reads_cudas_refusal(message):
    inputs = {"input_ids": torch.ones(2, 32, dtype=torch.long), "attention_mask": torch.ones(2, 32, dtype=torch.long)}
    check = fused_sdpa_check(_RefusingModel(message), inputs)
    assert not check.eligible and "1 key/value head(s) for 71 query heads" in check.reason
    with pytest.raises(RuntimeError, match="CUDA error: an illegal memory access"):
        fused_sdpa_check(_RefusingModel("CUDA error: an illegal memory access was encountered"), inputs)


@pytest.mark.parametrize("device_name, folder", [("NVIDIA H100 80GB HBM3", "nvidia-h100-80gb-hbm3"),
                                                 ("NVIDIA A100-SXM4-80GB", "nvidia-a100-sxm4-80gb"),
                                                 ("Tesla T4", "tesla-t4")])
def test_stored_folder_of_a_real_device_name(device_name, folder):
    from gpuguide_suite.store import slug

    assert slug(device_name) == folder
