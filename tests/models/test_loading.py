import shutil

import huggingface_hub.constants
import numpy as np
import pytest
import torch
from transformers import BertConfig, BertModel

import models.loading
import models.precision
from models.loading import ModelUnavailable, pick_device, pull, resolve
from models.ner import load_ner
from models.nli import load_nli
from stancewire.config import ModelSpec
from tests.models.tiny import NER_LEXICON, make_tiny_ner, make_tiny_nli

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An offline Hugging Face cache holding one tiny NER model as org/tiny-ner at COMMIT."""
    cache = tmp_path / "hub"
    repo = cache / "models--org--tiny-ner"
    make_tiny_ner(repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_pick_device_explicit_and_auto():
    assert pick_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert pick_device("auto").type == expected


def test_pick_device_rejects_unknown_or_unavailable():
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("quantum")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="STANCEWIRE_DEVICE"):
            pick_device("cuda")
    with pytest.raises(ValueError):
        pick_device(f"cuda:{torch.cuda.device_count()}")


@pytest.mark.parametrize("model_id", ["/nonexistent/ner-model", "./no-such-dir", "~/no/such/model"])
def test_missing_directory_is_unavailable(model_id):
    with pytest.raises(ModelUnavailable, match="does not exist"):
        load_ner(ModelSpec(id=model_id))
    with pytest.raises(ModelUnavailable, match="does not exist"):
        resolve(ModelSpec(id=model_id))


def test_offline_hub_id_not_cached_is_unavailable(hub_cache):
    with pytest.raises(ModelUnavailable) as error:
        load_ner(ModelSpec(id="org/not-cached"))
    message = str(error.value)
    assert "HF_HUB_OFFLINE" in message and "stancewire models pull" in message and "--ner-model" in message
    with pytest.raises(ModelUnavailable, match="HF_HUB_OFFLINE"):
        pull(ModelSpec(id="org/not-cached"))


def test_unreachable_hub_falls_back_to_the_cache_without_retrying(hub_cache, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    probes = []

    def refuse(address, timeout):
        probes.append(address)
        raise OSError("no route to host")

    monkeypatch.setattr(models.loading.socket, "create_connection", refuse)
    models.loading._hub_reachable.cache_clear()
    try:
        assert load_ner(ModelSpec(id="org/tiny-ner")).revision == COMMIT
        with pytest.raises(ModelUnavailable, match="Hub is unreachable.*stancewire models pull"):
            resolve(ModelSpec(id="org/not-cached"), "STANCEWIRE_NER_MODEL / --ner-model")
    finally:
        models.loading._hub_reachable.cache_clear()
    assert len(probes) == 1


def test_hub_model_records_resolved_commit(hub_cache):
    runner = load_ner(ModelSpec(id="org/tiny-ner"))
    assert (runner.model_id, runner.revision) == ("org/tiny-ner", COMMIT)
    resolved = resolve(ModelSpec(id="org/tiny-ner"))
    assert (resolved.model_id, resolved.revision, resolved.directory) == ("org/tiny-ner", COMMIT, None)
    assert load_ner(ModelSpec(id="org/tiny-ner", revision=COMMIT)).revision == COMMIT
    assert pull(ModelSpec(id="org/tiny-ner")) == hub_cache / "models--org--tiny-ner" / "snapshots" / COMMIT


def test_snapshot_directory_given_as_path_records_its_commit(hub_cache):
    snapshot = hub_cache / "models--org--tiny-ner" / "snapshots" / COMMIT
    assert load_ner(ModelSpec(id=str(snapshot))).revision == COMMIT


def test_local_directory_revision_is_a_stable_fingerprint(tmp_path):
    first = load_ner(ModelSpec(id=str(make_tiny_ner(tmp_path / "a")))).revision
    assert first.startswith("local-") and len(first) == len("local-") + 12
    assert resolve(ModelSpec(id=str(tmp_path / "a"))).revision == first
    shutil.copytree(tmp_path / "a", tmp_path / "copy")
    assert load_ner(ModelSpec(id=str(tmp_path / "copy"))).revision == first
    same_vocabulary = {piece: "O" for piece in NER_LEXICON} | {"Mario": "B-LOC"}
    retrained = make_tiny_ner(tmp_path / "b", lexicon=same_vocabulary)
    assert (retrained / "model.safetensors").stat().st_size == (tmp_path / "a" / "model.safetensors").stat().st_size
    assert load_ner(ModelSpec(id=str(retrained))).revision != first
    assert pull(ModelSpec(id=str(tmp_path / "a"))) == (tmp_path / "a").resolve()


def test_wrong_head_is_unavailable(tmp_path):
    BertModel(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=1)).save_pretrained(
        tmp_path / "base"
    )
    shutil.copy(make_tiny_ner(tmp_path / "ner") / "tokenizer.json", tmp_path / "base")
    with pytest.raises(ModelUnavailable, match="STANCEWIRE_NER_MODEL"):
        load_ner(ModelSpec(id=str(tmp_path / "base")))
    with pytest.raises(ModelUnavailable, match="STANCEWIRE_NLI_MODEL"):
        load_nli(ModelSpec(id=str(tmp_path / "ner")))
    with pytest.raises(ModelUnavailable, match="STANCEWIRE_NER_MODEL"):
        load_ner(ModelSpec(id=str(make_tiny_nli(tmp_path / "nli"))))


def test_directory_without_model_is_unavailable(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailable, match="--ner-model"):
        load_ner(ModelSpec(id=str(tmp_path / "empty")))
    (tmp_path / "empty" / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailable, match="--ner-model"):
        load_ner(ModelSpec(id=str(tmp_path / "empty")))


def test_int8_quantisation_keeps_predictions(tmp_path):
    spec = ModelSpec(id=str(make_tiny_ner(tmp_path / "ner")))
    text = ["Ieri Mario Rossi era a Roma."]
    quantized = load_ner(spec, device="cpu", precision="int8")
    assert [(m.start, m.end, m.label) for m in quantized(text)[0]] == [
        (m.start, m.end, m.label) for m in load_ner(spec, device="cpu")(text)[0]
    ]
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in quantized._loaded.model.modules())
    assert quantized.revision == load_ner(spec, device="cpu").revision + "+int8"


def test_bf16_keeps_predictions_and_is_recorded_in_the_revision(tmp_path):
    spec = ModelSpec(id=str(make_tiny_ner(tmp_path / "ner")))
    text = ["Ieri Mario Rossi era a Roma."]
    full = load_ner(spec, device="cpu")
    half = load_ner(spec, device="cpu", precision="bf16")
    assert half._loaded.model.dtype == torch.bfloat16 and full._loaded.model.dtype == torch.float32
    assert [(m.start, m.end, m.label) for m in half(text)[0]] == [(m.start, m.end, m.label) for m in full(text)[0]]
    assert half.revision == f"{full.revision}+bf16" and half.precision.name == "bf16"
    nli = load_nli(ModelSpec(id=str(make_tiny_nli(tmp_path / "nli"))), device="cpu", precision="bf16")
    assert nli([("sì", "yes")]).dtype == np.float64


def test_int8_refused_off_cpu(tmp_path, monkeypatch):
    monkeypatch.setattr(models.loading, "pick_device", lambda preference: torch.device("cuda"))
    monkeypatch.setattr(models.precision.torch.cuda, "get_device_name", lambda device: "Test GPU")
    with pytest.raises(ValueError, match=r"int8 runs on CPU only.*--device cpu"):
        load_ner(ModelSpec(id=str(make_tiny_ner(tmp_path / "ner"))), device="cuda", precision="int8")


@pytest.mark.parametrize(
    ("cpu_max", "expected"), [("max 100000", 2), ("100000 100000", 1), ("50000 100000", 1), ("garbage", 2)]
)
def test_usable_cpus_honours_a_cgroup_quota(tmp_path, monkeypatch, cpu_max, expected):
    (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    monkeypatch.setattr(models.loading, "_CGROUP_CPU_MAX", tmp_path / "cpu.max")
    monkeypatch.setattr(models.loading.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert models.loading.usable_cpus() == expected


def test_loading_caps_torch_threads_at_the_usable_cpus(tmp_path, monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(models.loading, "usable_cpus", lambda: 1)
    try:
        torch.set_num_threads(4)
        load_ner(ModelSpec(id=str(make_tiny_ner(tmp_path / "ner"))), device="cpu")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_run_parameters_reach_the_runners(tmp_path):
    from flows.stages import resident_model
    from stancewire.config import ModelOptions

    params = ModelOptions(
        ner=ModelSpec(id=str(make_tiny_ner(tmp_path / "ner"))),
        nli=ModelSpec(id=str(make_tiny_nli(tmp_path / "nli"))),
        device="cpu",
        token_budget=48,
        precision="int8",
    )
    ner = resident_model("ner", params).runner()
    nli = resident_model("nli", params).runner()
    for runner in (ner, nli):
        assert runner._token_budget == 48
        assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in runner._loaded.model.modules())


def test_int8_keeps_feed_forward_output_projections_in_fp32():
    config = BertConfig(vocab_size=50, hidden_size=16, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2)
    quantized = models.loading._quantize_int8(BertModel(config).eval())
    dynamic = torch.ao.nn.quantized.dynamic.Linear
    kinds = {name: type(module) for name, module in quantized.named_modules() if "dense" in name or "query" in name}
    for layer in range(2):
        assert kinds[f"encoder.layer.{layer}.output.dense"] is torch.nn.Linear
        for name in ("attention.self.query", "attention.output.dense", "intermediate.dense"):
            assert kinds[f"encoder.layer.{layer}.{name}"] is dynamic


def test_a_local_model_is_one_model_however_its_path_is_spelled(tmp_path, monkeypatch):
    directory = make_tiny_ner(tmp_path / "models" / "ner")
    monkeypatch.chdir(tmp_path)
    spellings = [str(directory), "models/ner", "./models/ner", "models/../models/ner/"]
    identities = {(resolve(ModelSpec(id=s)).model_id, resolve(ModelSpec(id=s)).revision) for s in spellings}
    assert identities == {(str(directory.resolve()), resolve(ModelSpec(id=str(directory))).revision)}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (BertConfig(hidden_size=768, intermediate_size=3072), 512),  # base size
        (BertConfig(hidden_size=384, intermediate_size=1536), 1024),  # small
        (BertConfig(hidden_size=1024, intermediate_size=4096), 512),  # large
        (BertConfig(hidden_size=32, intermediate_size=64), 2048),  # tiny: capped
        (BertConfig(hidden_size=8192, intermediate_size=32768), 256),  # huge: floored
    ],
)
def test_cpu_token_budget_follows_the_feed_forward_width(config, expected):
    assert models.loading.default_token_budget(torch.device("cpu"), config) == expected


def test_onnx_runtime_batches_hold_half_the_tokens_for_its_fp32_activations():
    base = BertConfig(hidden_size=768, intermediate_size=3072)
    assert models.loading.default_token_budget(torch.device("cpu"), base, "onnx") == 256
    assert models.loading.default_token_budget(torch.device("cpu"), base, "torch") == 512


def test_gpu_token_budget_is_large_whatever_the_model():
    assert models.loading.default_token_budget(torch.device("cuda"), BertConfig()) == 8192


def test_runner_token_budget_defaults_from_the_loaded_model(tmp_path):
    runner = load_ner(ModelSpec(id=str(make_tiny_ner(tmp_path / "ner"))), device="cpu")
    config = runner._loaded.model.config
    assert runner._token_budget == models.loading.default_token_budget(torch.device("cpu"), config)
