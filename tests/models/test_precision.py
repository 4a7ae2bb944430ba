import pytest
import torch

import models.precision
from models.precision import Precision, choose_precision, cpu_flags

CPU = torch.device("cpu")


@pytest.fixture
def flags(monkeypatch):
    def set_flags(*names):
        monkeypatch.setattr(models.precision, "cpu_flags", lambda: frozenset(names))

    return set_flags


def test_auto_on_cpu_follows_native_bf16(flags):
    flags("avx2", "avx512f", "avx512_bf16")
    assert choose_precision("auto", CPU) == Precision("bf16", "cpu avx512_bf16")
    flags("avx2", "fma")
    assert choose_precision("auto", CPU).name == "fp32"


def test_explicit_precisions_on_cpu(flags):
    flags("avx2")
    assert choose_precision("bf16", CPU).kernel.endswith("(bf16 emulated)")
    assert choose_precision("int8", CPU).name == "int8"
    assert choose_precision("fp32", CPU).dtype == torch.float32
    with pytest.raises(ValueError, match="fp16 runs on GPUs only.*STANCEWIRE_PRECISION"):
        choose_precision("fp16", CPU)
    with pytest.raises(ValueError, match="unknown precision 'half'"):
        choose_precision("half", CPU)


@pytest.mark.parametrize(("bf16", "expected"), [(True, "bf16"), (False, "fp16")])
def test_auto_on_gpus(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: "Test GPU")
    chosen = choose_precision("auto", torch.device("cuda"))
    assert chosen == Precision(expected, "cuda Test GPU")
    if not bf16:
        with pytest.raises(ValueError, match="no bf16 support"):
            choose_precision("bf16", torch.device("cuda"))


def test_revision_tag_tells_precisions_apart():
    assert Precision("fp32", "cpu AVX2").tag("abc") == "abc"
    assert Precision("bf16", "cpu avx512_bf16").tag("abc") == "abc+bf16"
    assert Precision("int8", "cpu AVX2").tag("abc") != Precision("bf16", "x").tag("abc")


def test_cpu_flags_read_from_cpuinfo(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu avx2\n")
    monkeypatch.setattr(models.precision, "_CPUINFO", cpuinfo)
    cpu_flags.cache_clear()
    try:
        assert cpu_flags() == {"fpu", "avx2", "avx512_bf16"}
        monkeypatch.setattr(models.precision, "_CPUINFO", tmp_path / "missing")
        cpu_flags.cache_clear()
        assert cpu_flags() == frozenset()
    finally:
        cpu_flags.cache_clear()


@pytest.fixture
def onnx_installed(monkeypatch):
    def set_installed(installed: bool):
        monkeypatch.setattr(models.precision.onnx_runtime, "available", lambda: installed)

    return set_installed


def test_auto_backend_runs_fp32_on_onnx_runtime_where_installed(flags, onnx_installed):
    flags("avx2")
    onnx_installed(True)
    assert choose_precision("auto", CPU).backend == "onnx"
    assert choose_precision("int8", CPU).backend == "torch"  # torch's int8 scheme unless onnx is asked for
    assert choose_precision("fp32", CPU, "torch").backend == "torch"
    onnx_installed(False)
    assert choose_precision("auto", CPU).backend == "torch"


def test_onnx_backend_refusals_name_the_fix(flags, onnx_installed, monkeypatch):
    flags("avx512_bf16")
    onnx_installed(False)
    with pytest.raises(ValueError, match=r"stancewire\[onnx\]"):
        choose_precision("fp32", CPU, "onnx")
    onnx_installed(True)
    assert choose_precision("auto", CPU, "onnx") == Precision("fp32", choose_precision("fp32", CPU).kernel, "onnx")
    with pytest.raises(ValueError, match="set --backend torch for bf16"):
        choose_precision("bf16", CPU, "onnx")
    with pytest.raises(ValueError, match="runs on CPU only.*--backend torch"):
        choose_precision("auto", torch.device("cuda"), "onnx")
    with pytest.raises(ValueError, match="unknown backend 'tensorrt'"):
        choose_precision("auto", CPU, "tensorrt")


def test_onnx_int8_is_told_apart_from_torch_int8_but_fp32_is_one_result():
    assert Precision("fp32", "cpu", "onnx").tag("abc") == Precision("fp32", "cpu", "torch").tag("abc") == "abc"
    assert Precision("int8", "cpu", "onnx").tag("abc") == "abc+int8-onnx"
    assert Precision("int8", "cpu", "torch").tag("abc") == "abc+int8"
    assert Precision("bf16", "cpu avx512_bf16").describe() == "bf16 on cpu avx512_bf16 (torch)"
