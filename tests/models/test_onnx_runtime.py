import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
pytest.importorskip("onnx", reason="the onnx extra is not installed")

import models.onnx_runtime  # noqa: E402
from models.ner import load_ner  # noqa: E402
from models.nli import load_nli  # noqa: E402
from models.onnx_runtime import OrtModel, exported_path  # noqa: E402
from stancewire.config import ModelSpec  # noqa: E402
from tests.models.tiny import make_tiny_ner, make_tiny_nli  # noqa: E402

TEXTS = ["Ieri Mario Rossi era a Roma con Putin.", "L'ONU a Zürich e Москва.", ""]


@pytest.fixture(autouse=True)
def onnx_cache(tmp_path, monkeypatch):
    cache = tmp_path / "onnx-cache"
    monkeypatch.setenv("STANCEWIRE_ONNX_CACHE", str(cache))
    return cache


def spans(mentions):
    return [[(m.start, m.end, m.label) for m in ms] for ms in mentions]


@pytest.mark.parametrize("kind", ["bert", "xlmr"])
def test_ner_on_onnx_runtime_equals_torch_fp32(tmp_path, kind):
    spec = ModelSpec(id=str(make_tiny_ner(tmp_path / "ner", kind=kind)))
    reference = load_ner(spec, device="cpu", backend="torch")
    ort = load_ner(spec, device="cpu", backend="onnx")
    assert isinstance(ort._loaded.model, OrtModel) and ort.precision.backend == "onnx"
    expected, got = reference(TEXTS), ort(TEXTS)
    assert spans(got) == spans(expected) and any(got)
    gaps = [abs(a.score - b.score) for ms, ns in zip(expected, got, strict=True) for a, b in zip(ms, ns, strict=True)]
    assert max(gaps) < 1e-4
    assert ort.revision == reference.revision  # exact within 1e-4: one result, not recomputed on a switch


def test_long_texts_are_windowed_alike(tmp_path):
    spec = ModelSpec(id=str(make_tiny_ner(tmp_path / "ner", max_position=16)))
    text = ["Mario Rossi e Putin a Roma, poi ONU a Zürich. " * 6]
    assert spans(load_ner(spec, device="cpu", backend="onnx")(text)) == spans(load_ner(spec, device="cpu")(text))


def test_nli_on_onnx_runtime_equals_torch_fp32(tmp_path):
    spec = ModelSpec(id=str(make_tiny_nli(tmp_path / "nli")))
    pairs = [("sì, certo", "yes"), ("no davvero", "falso"), ("niente", "nulla")]
    expected = load_nli(spec, device="cpu", backend="torch")(pairs)
    got = load_nli(spec, device="cpu", backend="onnx")(pairs)
    assert np.abs(expected - got).max() < 1e-4
    assert (expected.argmax(1) == got.argmax(1)).all()


def test_exported_once_per_revision_and_reused(tmp_path, monkeypatch, onnx_cache):
    spec = ModelSpec(id=str(make_tiny_ner(tmp_path / "ner")))
    first = load_ner(spec, device="cpu", backend="onnx")
    path = first._loaded.model.path
    assert path.is_file() and path.is_relative_to(onnx_cache) and path.name == "model-fp32.onnx"

    def no_second_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(models.onnx_runtime, "_export", no_second_export)
    assert load_ner(spec, device="cpu", backend="onnx")._loaded.model.path == path
    make_tiny_ner(tmp_path / "ner", lexicon={"Roma": "B-ORG"})  # retrained in place: a new revision
    with pytest.raises(AssertionError, match="exported again"):
        load_ner(spec, device="cpu", backend="onnx")


def test_a_failed_export_leaves_no_file_a_later_run_would_load(tmp_path, monkeypatch):
    spec = ModelSpec(id=str(make_tiny_ner(tmp_path / "ner")))
    real_export = torch.onnx.export

    def killed_midway(model, args, path, **kwargs):
        with open(path, "wb") as f:
            f.write(b"half a graph")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch.onnx, "export", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        load_ner(spec, device="cpu", backend="onnx")
    runner = load_ner(spec, device="cpu")
    assert not exported_path(runner.model_id, runner.revision, "fp32").exists()
    monkeypatch.setattr(torch.onnx, "export", real_export)
    assert spans(load_ner(spec, device="cpu", backend="onnx")(TEXTS)) == spans(runner(TEXTS))


def test_int8_on_onnx_runtime_is_quantised_and_recorded_apart(tmp_path):
    spec = ModelSpec(id=str(make_tiny_ner(tmp_path / "ner")))
    fp32 = load_ner(spec, device="cpu")
    int8 = load_ner(spec, device="cpu", precision="int8", backend="onnx")
    assert int8._loaded.model.path.name == "model-int8.onnx"
    ops = {node.op_type for node in __import__("onnx").load(str(int8._loaded.model.path)).graph.node}
    assert ops & {"DynamicQuantizeMatMul", "MatMulInteger", "DynamicQuantizeLinear"}
    assert int8.revision == f"{fp32.revision}+int8-onnx"
    assert spans(int8(TEXTS)) == spans(fp32(TEXTS))  # the lexicon model's margins survive 8 bits
