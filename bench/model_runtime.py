"""Model runtime benchmark: naive Hugging Face pipelines vs stancewire's runners at every precision and backend the
machine runs (fp32, bf16, fp16, int8; torch and ONNX Runtime), their agreement with fp32, the peak GEMM throughput of
the best kernel per precision and the encoder's fraction of it, and the `auto` choice checked against the targets.

    python bench/model_runtime.py                  # CPU or the GPU `auto` picks; a few minutes on 2 CPU cores
    python bench/model_runtime.py --device cuda    # fp32, bf16 and fp16 on a GPU
    python bench/model_runtime.py --device cpu --trained-ner /models/my-ner --memory-budgets 512,2048

Models are base-size encoders (XLM-R base shape: 12 layers, hidden 768, 12 heads, FFN 3072, 512 positions) with
random weights: the compute is that of a trained model, and random predictions still produce entities, so the two
implementations must agree on every one. The vocabulary is a WordPiece trained on the benchmark texts (a few thousand
pieces instead of XLM-R's 250k): an embedding lookup costs the same whatever the table size. WordPiece also gives
both implementations the same notion of a word, so their entities are comparable one to one.

Texts: the `seeds/*.txt` articles under $STANCEWIRE_SHARED_DIR (default: a `shared` folder beside the checkout) when
present, else generated multilingual articles. Sentences are cut by the pipeline's own splitter, since the NER and
stance stages run on sentences. The accuracy cost of each mode is measured on a trained NER model too (the shared
`models/ner-e5small-it` when present, or --trained-ner) over those articles and the demo corpus: random weights say
what a precision costs in speed, only a trained model says what it costs in entities.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402
from transformers import (  # noqa: E402
    BertConfig,
    BertForSequenceClassification,
    BertForTokenClassification,
    PreTrainedTokenizerFast,
    pipeline,
)
from transformers.utils import logging as hf_logging  # noqa: E402

from models import onnx_runtime  # noqa: E402
from models.batching import forward_logits  # noqa: E402
from models.loading import pick_device  # noqa: E402
from models.ner import load_ner  # noqa: E402
from models.nli import COLUMNS, load_nli  # noqa: E402
from models.precision import Precision, choose_precision, cpu_capability, cpu_flags  # noqa: E402
from stancewire.config import DEMO_DIR, ModelSpec  # noqa: E402
from tasks.text.sentences import split_sentences  # noqa: E402

LAYERS, HIDDEN, HEADS, FFN, POSITIONS = 12, 768, 12, 3072, 512
VOCAB = 8000  # embedding rows; the WordPiece trained on the texts uses fewer (its size varies slightly run to run)
NER_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
# Not the usual order: both implementations must map labels by name.
NLI_LABELS = {0: "contradiction", 1: "entailment", 2: "neutral"}
CLAIMS = [
    "La Corea del Nord ha inviato truppe in Russia.",
    "North Korea has sent troops to Russia.",
    "Les sanctions contre la Russie ont été levées.",
]


CPU_MODES = (("fp32", "torch"), ("fp32", "onnx"), ("bf16", "torch"), ("int8", "torch"), ("int8", "onnx"))
GPU_MODES = (("fp32", "torch"), ("bf16", "torch"), ("fp16", "torch"))
REFERENCE = ("fp32", "torch")
FLAGS_SHOWN = (
    "avx2 fma avx512f avx512bw avx512vl avx512_vnni avx_vnni avx512_bf16 avx512_fp16 amx_tile amx_bf16 amx_int8".split()
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--ner-sentences", type=int, default=64, help="sentences for the NER comparison")
    parser.add_argument("--nli-sentences", type=int, default=16, help="sentences scored against each claim")
    parser.add_argument("--claims", type=int, default=2, help=f"claims per sentence (at most {len(CLAIMS)})")
    parser.add_argument("--chunks", type=int, default=2, help="the implementations alternate over this many chunks")
    parser.add_argument("--trained-ner", type=Path, help="a trained NER model for the agreement table")
    parser.add_argument("--memory-budgets", default=None, help="token budgets for the memory table (comma-separated)")
    parser.add_argument(
        "--memory-probe", nargs=4, metavar=("MODEL_DIR", "DEVICE", "BUDGET", "LENGTH"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore")
    if args.memory_probe:
        print(json.dumps(memory_probe(*args.memory_probe)))
        return

    device = pick_device(args.device)
    modes = available_modes(device)
    auto = choose_precision("auto", device)
    articles, origin = load_articles()
    sentences = [article[s:e] for article in articles for s, e in split_sentences(article)]
    print(f"# stancewire model runtime benchmark — {describe(device)}")
    print(machine_line(device))
    print(f"`auto` on this machine: {auto.describe()}; modes measured: {', '.join(map(label, modes))}")
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    print(f"texts: {len(articles)} articles ({origin}), {sum(map(len, articles))} chars, {len(sentences)} sentences")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("STANCEWIRE_ONNX_CACHE", str(Path(tmp) / "onnx"))
        ner_dir, nli_dir, vocab = build_models(Path(tmp), articles)
        print(
            f"models: BERT encoder, {LAYERS} layers, hidden {HIDDEN}, {HEADS} heads, FFN {FFN}, {POSITIONS} positions, "
            f"WordPiece of {vocab} pieces trained on the texts, random weights (seed 0); torch threads "
            f"{torch.get_num_threads()}"
        )
        ner = runners(load_ner, ner_dir, device, modes)
        report_truncation(ner[REFERENCE]._loaded.tokenizer, articles)

        print("\n## Peak GEMM throughput, best kernel per precision (the encoder's shapes at the token budget)")
        peaks = gemm_peaks(device, ner[REFERENCE]._token_budget)

        ner_inputs = sentences[: args.ner_sentences]
        lengths = [len(ids) for ids in ner[REFERENCE]._loaded.tokenizer(ner_inputs)["input_ids"]]
        print("\n## NER: pipeline('token-classification', aggregation_strategy='first') per sentence vs NerRunner")
        print(f"{len(ner_inputs)} sentences, {sum(lengths)} tokens; agreement: entity F1 against the fp32 runner")
        naive = pipeline("token-classification", model=str(ner_dir), aggregation_strategy="first", device=device)
        outputs, times = side_by_side(lambda xs: [naive(x) for x in xs], ner, ner_inputs, args.chunks, device)
        check_naive_entities(outputs["naive"], outputs[REFERENCE], exact=device.type == "cpu")
        results["NER, random base-size"] = mode_table(
            outputs, times, lengths, peaks, lambda got: entity_f1(outputs[REFERENCE], got), "entity F1"
        )

        nli = runners(load_nli, nli_dir, device, modes)
        pairs = [(s, c) for s in sentences[: args.nli_sentences] for c in CLAIMS[: args.claims]]
        tokenizer = nli[REFERENCE]._loaded.tokenizer
        lengths = [len(ids) for ids in tokenizer([p for p, _ in pairs], [h for _, h in pairs])["input_ids"]]
        print("\n## NLI: pipeline('text-classification', top_k=None) per (sentence, claim) vs NliRunner")
        print(f"{len(pairs)} pairs ({args.claims} claims), {sum(lengths)} tokens; agreement: same label as fp32")
        naive = pipeline("text-classification", model=str(nli_dir), top_k=None, device=device)
        outputs, times = side_by_side(
            lambda xs: [naive({"text": p, "text_pair": h}) for p, h in xs], nli, pairs, args.chunks, device
        )
        probs = {mode: np.concatenate(got) for mode, got in outputs.items() if mode != "naive"}
        check_naive_probabilities(outputs["naive"], probs[REFERENCE], 1e-4 if device.type == "cpu" else 0.1)
        results["NLI, random base-size"] = mode_table(
            probs | {"naive": None},
            times,
            lengths,
            peaks,
            lambda got: label_agreement(probs[REFERENCE], got),
            "same label",
            extra=lambda got: f"max ΔP {np.abs(probs[REFERENCE] - got).max():.1e}",
        )

        trained = args.trained_ner or default_trained_ner()
        if trained:
            results[f"NER, trained {trained.name}"] = trained_agreement(trained, device, modes, args.chunks)
        else:
            print("\n(no trained NER model: the shared one is absent and --trained-ner was not given)")

        verdict(results, auto)
        if args.memory_budgets:
            print("\n## Peak memory per token budget (one forward of a full batch, NER model)")
            memory_table(ner_dir, str(device), [int(b) for b in args.memory_budgets.split(",")])
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


def runners(loader: Callable, model_dir: Path, device: torch.device, modes: list[tuple[str, str]]) -> dict:
    return {
        mode: loader(ModelSpec(id=str(model_dir)), device=str(device), precision=mode[0], backend=mode[1])
        for mode in modes
    }


def available_modes(device: torch.device) -> list[tuple[str, str]]:
    """Every precision and backend this machine can run (what choose_precision refuses is left out)."""
    modes = []
    for precision, backend in GPU_MODES if device.type == "cuda" else CPU_MODES:
        try:
            choose_precision(precision, device, backend)
        except ValueError:
            continue
        modes.append((precision, backend))
    return modes


def label(mode: tuple[str, str]) -> str:
    return f"{mode[0]} {mode[1]}"


def machine_line(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU bf16 support: {torch.cuda.is_bf16_supported()}; CUDA {torch.version.cuda}"
    flags = [flag for flag in FLAGS_SHOWN if flag in cpu_flags()]
    ort = "absent"
    if onnx_runtime.available():
        import onnxruntime

        ort = onnxruntime.__version__
    return f"CPU flags: {' '.join(flags) or 'none of interest'}; torch capability {cpu_capability()}; onnxruntime {ort}"


def default_trained_ner() -> Path | None:
    shared = Path(os.environ.get("STANCEWIRE_SHARED_DIR", REPO_ROOT.parent / "shared"))
    model = shared / "models" / "ner-e5small-it"
    return model if (model / "config.json").is_file() else None


def side_by_side(naive: Callable, implementations: dict, inputs: list, chunks: int, device: torch.device):
    """The naive pipeline and every runner on the same chunks, alternating, so that load from other processes hits
    all alike. Returns outputs and summed wall-clock seconds per implementation ("naive" and each mode)."""
    naive(inputs[:1])  # warm-up (lazy initialisation, allocator)
    for runner in implementations.values():
        runner(inputs[:4])
    every = {"naive": naive} | implementations
    outputs: dict = {name: [] for name in every}
    times = dict.fromkeys(every, 0.0)
    size = -(-len(inputs) // chunks)
    for start in range(0, len(inputs), size):
        chunk = inputs[start : start + size]
        for name, fn in every.items():
            result, wall, _ = timed(lambda: fn(chunk), device)  # noqa: B023 - called at once
            outputs[name].extend(result) if isinstance(result, list) else outputs[name].append(result)
            times[name] += wall
    return outputs, times


def mode_table(outputs: dict, times: dict, lengths: list[int], peaks: dict, agreement, name: str, extra=None) -> dict:
    """One row per mode: time, tokens/s, speed-up over the naive pipeline, agreement with fp32, and the fraction of
    the precision's GEMM peak (the encoder's FLOPs over the runner's wall-clock time, tokenisation included)."""
    flops, tokens, naive = sum(n * flops_per_token(n) for n in lengths), sum(lengths), times["naive"]
    print(f"naive pipeline, fp32: {naive:.2f} s, {tokens / naive:.0f} tok/s")
    print(f"| mode | s | tok/s | vs naive | {name} | of its precision's GEMM peak |" + (" |" if extra else ""))
    print("|---|--:|--:|--:|--:|--:|" + ("---|" if extra else ""))
    rows = {}
    for mode, seconds in times.items():
        if mode == "naive":
            continue
        agree, peak = agreement(outputs[mode]), peaks.get(mode[0])
        share = f"{flops / seconds / peak:.0%}" if peak else "n/a"
        print(
            f"| {label(mode)} | {seconds:.2f} | {tokens / seconds:.0f} | **{naive / seconds:.2f}x** | {agree:.4f} | "
            f"{share} |" + (f" {extra(outputs[mode])} |" if extra else "")
        )
        rows[mode] = {"speedup": naive / seconds, "agreement": agree}
    return rows


def entity_f1(reference: list, got: list) -> float:
    want = {(i, m.start, m.end, m.label) for i, ms in enumerate(reference) for m in ms}
    have = {(i, m.start, m.end, m.label) for i, ms in enumerate(got) for m in ms}
    return 2 * len(want & have) / (len(want) + len(have)) if want or have else 1.0


def label_agreement(reference: np.ndarray, got: np.ndarray) -> float:
    return float((reference.argmax(1) == got.argmax(1)).mean())


def trained_agreement(model: Path, device: torch.device, modes: list, chunks: int) -> dict:
    """The accuracy cost that matters: a trained NER model's entities per mode against its own fp32 entities, on the
    seed articles and the demo corpus, with the speed-up over its per-sentence pipeline."""
    from tasks.text.extract import extract_html  # trafilatura: only this section needs it

    articles, origin = load_articles()
    articles += [p.read_text(encoding="utf-8") for p in sorted((DEMO_DIR / "articles").glob("*.txt"))]
    articles += [
        extract_html(p.read_text(encoding="utf-8")).body for p in sorted((DEMO_DIR / "articles").glob("*.html"))
    ]
    sentences = [text[s:e] for text in articles for s, e in split_sentences(text)]
    ner = runners(load_ner, model, device, modes)
    lengths = [len(ids) for ids in ner[REFERENCE]._loaded.tokenizer(sentences)["input_ids"]]
    print(f"\n## Trained NER model {model.name}: entities per mode against its own fp32 entities")
    print(f"{len(sentences)} sentences ({origin} and the demo corpus), {sum(lengths)} tokens")
    naive = pipeline("token-classification", model=str(model), aggregation_strategy="first", device=device)
    outputs, times = side_by_side(lambda xs: [naive(x) for x in xs], ner, sentences, chunks, device)
    print(f"entities at fp32: {sum(map(len, outputs[REFERENCE]))}")
    return mode_table(outputs, times, lengths, {}, lambda got: entity_f1(outputs[REFERENCE], got), "entity F1")


def verdict(results: dict, auto: Precision) -> None:
    """The targets, checked on this run's own figures."""
    mode = (auto.name, auto.backend)
    print(f"\n## Targets (auto = {label(mode)})")
    for section, rows in results.items():
        if mode in rows:
            print(
                f"{section}: auto {rows[mode]['speedup']:.2f}x the naive pipeline (target ≥ 5x), agreement "
                f"{rows[mode]['agreement']:.4f} (auto may pick only a mode ≥ 0.99)"
            )
        if ("fp32", "onnx") in rows:
            print(f"{section}: exact fp32 path (onnx) {rows[('fp32', 'onnx')]['speedup']:.2f}x (target ≥ 1.8x)")


def gemm_peaks(device: torch.device, budget: int) -> dict[str, float]:
    """FLOP/s (int8: OP/s) per precision: the best kernel among torch's and ONNX Runtime's over the encoder's three
    GEMM shapes at the token budget."""
    shapes = [(budget, HIDDEN, HIDDEN), (budget, HIDDEN, FFN), (budget, FFN, HIDDEN)]
    kernels = {
        "fp32": [("torch", torch_gemm(device, torch.float32))],
        "bf16": [("torch", torch_gemm(device, torch.bfloat16))],
    }
    if device.type == "cuda":
        kernels["fp16"] = [("torch", torch_gemm(device, torch.float16))]
    elif onnx_runtime.available():
        kernels["fp32"].append(("onnxruntime", ort_gemm("fp32")))
        kernels["int8"] = [("onnxruntime", ort_gemm("int8"))]
    peaks = {}
    for precision, candidates in kernels.items():
        best = (0.0, "")
        for name, make in candidates:
            for m, k, n in shapes:
                best = max(best, (rate(make(m, k, n), 2 * m * k * n, device, 0.3), f"{name}, {m}x{k}x{n}"))
        peaks[precision] = best[0]
        print(f"{precision}: {best[0] / 1e9:.0f} G{'OP' if precision == 'int8' else 'FLOP'}/s ({best[1]})")
    return peaks


def torch_gemm(device: torch.device, dtype: torch.dtype) -> Callable[[int, int, int], Callable]:
    def make(m: int, k: int, n: int) -> Callable:
        a, b = torch.randn(m, k, device=device, dtype=dtype), torch.randn(k, n, device=device, dtype=dtype)
        a @ b  # warm-up
        return lambda: a @ b

    return make


def ort_gemm(precision: str) -> Callable[[int, int, int], Callable]:
    """One MatMul (fp32) or MatMulInteger (uint8 activations x int8 weights, int32 out) node in ONNX Runtime."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    def make(m: int, k: int, n: int) -> Callable:
        rng = np.random.default_rng(0)
        if precision == "int8":
            weight = numpy_helper.from_array(rng.integers(-127, 127, (k, n), dtype=np.int8), "b")
            node = helper.make_node("MatMulInteger", ["a", "b"], ["c"])
            a_type, c_type, a = TensorProto.UINT8, TensorProto.INT32, rng.integers(0, 255, (m, k), dtype=np.uint8)
        else:
            weight = numpy_helper.from_array(rng.standard_normal((k, n), dtype=np.float32), "b")
            node = helper.make_node("MatMul", ["a", "b"], ["c"])
            a_type, c_type, a = TensorProto.FLOAT, TensorProto.FLOAT, rng.standard_normal((m, k), dtype=np.float32)
        graph = helper.make_graph(
            [node],
            "gemm",
            [helper.make_tensor_value_info("a", a_type, [m, k])],
            [helper.make_tensor_value_info("c", c_type, [m, n])],
            initializer=[weight],
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        session.run(None, {"a": a})
        return lambda: session.run(None, {"a": a})

    return make


def load_articles() -> tuple[list[str], str]:
    shared = Path(os.environ.get("STANCEWIRE_SHARED_DIR", REPO_ROOT.parent / "shared"))
    seeds = sorted((shared / "seeds").glob("*.txt")) if shared.is_dir() else []
    if seeds:
        return [p.read_text(encoding="utf-8") for p in seeds], "seed news texts"
    return generated_articles(6), "generated"


def generated_articles(n: int) -> list[str]:
    """Multilingual news-like articles of ~4,000 characters (30 sentences each)."""
    rng = random.Random(0)
    people = [
        "Giorgia Meloni",
        "Olaf Scholz",
        "Emmanuel Macron",
        "Pedro Sánchez",
        "Kim Jong-un",
        "Ursula von der Leyen",
    ]
    places = ["Roma", "Berlino", "Paris", "Madrid", "Pyongyang", "Kursk", "Bruxelles", "Zürich", "Москва"]
    orgs = ["ONU", "NATO", "Commissione europea", "Bundestag", "Banco de España", "Assemblée nationale"]
    templates = [
        "Secondo fonti vicine a {p}, il governo di {l} ha confermato l'accordo con la {o} il {d} marzo.",
        '{p} said on Tuesday that talks in {l} with the {o} had made "real progress" after {d} hours.',
        "À {l}, {p} a rencontré les représentants de l'{o} pour discuter d'un plan de {d} milliards d'euros.",
        "Die {o} teilte am {d}. Oktober mit, dass {p} in {l} an den Gesprächen teilnehmen werde.",
        "El portavoz de {p} explicó en {l} que la {o} revisará las cifras, que rondan los {d}.000 millones.",
    ]
    articles = []
    for _ in range(n):
        sentences = [
            rng.choice(templates).format(
                p=rng.choice(people), l=rng.choice(places), o=rng.choice(orgs), d=rng.randint(2, 28)
            )
            for _ in range(30)
        ]
        articles.append("\n".join(" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)))
    return articles


def build_models(root: Path, texts: list[str]) -> tuple[Path, Path, int]:
    torch.manual_seed(0)
    tokenizer = wordpiece(texts)
    common = dict(
        vocab_size=VOCAB,
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=FFN,
        max_position_embeddings=POSITIONS,
        pad_token_id=tokenizer.pad_token_id,
    )
    ner = BertForTokenClassification(
        BertConfig(id2label=dict(enumerate(NER_LABELS)), label2id={n: i for i, n in enumerate(NER_LABELS)}, **common)
    )
    with torch.no_grad():  # about 1 token in 5 inside an entity, rather than 6 in 7
        ner.classifier.weight.mul_(4.0)
        ner.classifier.bias[0] = 4.0
    nli = BertForSequenceClassification(
        BertConfig(id2label=NLI_LABELS, label2id={n: i for i, n in NLI_LABELS.items()}, **common)
    )
    with torch.no_grad():  # spread the probabilities away from 1/3 so that a label order mix-up would show
        nli.classifier.weight.mul_(4.0)
    for directory, model in (("ner", ner), ("nli", nli)):
        model.save_pretrained(root / directory)
        tokenizer.save_pretrained(root / directory)
    return root / "ner", root / "nli", tokenizer.vocab_size


def wordpiece(texts: list[str]) -> PreTrainedTokenizerFast:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    backend = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    alphabet = sorted(set("".join(texts + CLAIMS)))
    trainer = trainers.WordPieceTrainer(
        vocab_size=VOCAB, special_tokens=specials, initial_alphabet=alphabet, show_progress=False
    )
    backend.train_from_iterator(texts + CLAIMS, trainer)
    cls, sep = backend.token_to_id("[CLS]"), backend.token_to_id("[SEP]")
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    backend.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        model_max_length=POSITIONS,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU {torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    return f"CPU {cpu} ({len(os.sched_getaffinity(0))} usable), torch {torch.__version__}"


def timed(fn: Callable, device: torch.device):
    """(result, wall seconds, CPU seconds of this process, all threads)."""
    sync(device)
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    sync(device)
    return result, time.perf_counter() - start, time.process_time() - cpu


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def report_truncation(tokenizer, articles: list[str]) -> None:
    """What a per-article pipeline call would silently drop: the pipeline truncates at the model's limit."""
    lengths = [len(ids) for ids in tokenizer(articles, add_special_tokens=True)["input_ids"]]
    lost = sum(max(0, n - POSITIONS) for n in lengths)
    print(
        f"articles: {min(lengths)}–{max(lengths)} tokens; a per-article pipeline() call truncates at {POSITIONS} and "
        f"would never see {lost} of {sum(lengths)} tokens ({lost / sum(lengths):.0%}), so the naive baseline "
        f"below runs per sentence"
    )


def check_naive_entities(expected: list[list[dict]], got: list, exact: bool) -> None:
    want = {(i, e["start"], e["end"], e["entity_group"]) for i, ents in enumerate(expected) for e in ents}
    have = {(i, m.start, m.end, m.label) for i, ms in enumerate(got) for m in ms}
    agree = len(want & have)
    f1 = 2 * agree / (len(want) + len(have)) if want or have else 1.0
    scores = {
        (i, e["start"], e["end"], e["entity_group"]): float(e["score"]) for i, ents in enumerate(expected) for e in ents
    }
    score_gap = max(
        (
            abs(scores[(i, m.start, m.end, m.label)] - m.score)
            for i, ms in enumerate(got)
            for m in ms
            if (i, m.start, m.end, m.label) in scores
        ),
        default=0.0,
    )
    print(
        f"fp32 runner vs pipeline: entities {len(have)} vs {len(want)}, identical (span + label) {agree}, F1 {f1:.4f}, "
        f"max score difference {score_gap:.1e}"
    )
    if exact:
        assert want == have, f"entity mismatch: {sorted(want ^ have)[:5]}"
        assert score_gap < 1e-4, score_gap
    else:  # bf16 batched vs fp32 unbatched: near-ties between random labels may flip
        assert f1 > 0.8, f1


def check_naive_probabilities(expected: list[list[dict]], got: np.ndarray, tolerance: float) -> None:
    naive = np.array([[{d["label"]: d["score"] for d in row}[c] for c in COLUMNS] for row in expected])
    gap = float(np.abs(naive - got).max())
    agree = float((naive.argmax(1) == got.argmax(1)).mean())
    print(
        f"fp32 runner vs pipeline: probabilities max |difference| {gap:.1e}, same argmax {agree:.1%}, "
        f"mean P(entailment, neutral, contradiction) {np.round(got.mean(0), 3).tolist()}"
    )
    assert gap < tolerance, gap


def flops_per_token(n: int) -> int:
    """Per token per layer: Q, K, V and output projections 4·2d², FFN 2·2·d·f, attention scores and mixing 2·2·n·d."""
    return LAYERS * (8 * HIDDEN**2 + 4 * HIDDEN * FFN + 4 * n * HIDDEN)


def rate(fn: Callable, flops: float, device: torch.device, min_s: float = 0.0) -> float:
    """FLOP/s of `fn` (already warm), over at least one call and `min_s` seconds."""
    calls, start = 0, time.perf_counter()
    while calls == 0 or time.perf_counter() - start < min_s:
        fn()
        calls += 1
        sync(device)
    return flops * calls / (time.perf_counter() - start)


def memory_table(model_dir: Path, device: str, budgets: list[int]) -> None:
    print("| token budget | sequence length | rows per batch | peak memory over the loaded model | tok/s |")
    print("|---:|---:|---:|---:|---:|")
    for budget in budgets:
        for length in (64, POSITIONS):
            out = subprocess.run(
                [sys.executable, __file__, "--memory-probe", str(model_dir), device, str(budget), str(length)],
                capture_output=True,
                text=True,
                check=True,
            )
            probe = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"| {budget} | {length} | {max(1, budget // length)} | {probe['peak_mib']:.0f} MiB | {probe['tok_s']:.0f} |"
            )
    print("(CPU: VmHWM − VmRSS after loading, peak reset per setting; GPU: max_memory_allocated − allocated)")


def memory_probe(model_dir: str, device: str, budget: str, length: str) -> dict:
    """Runs in a fresh process: the peak of one forward of a full batch at this budget and sequence length."""
    ner = load_ner(ModelSpec(id=model_dir), device=device, token_budget=int(budget))
    loaded = ner._loaded
    rows = [{"input_ids": [loaded.tokenizer.cls_token_id] + [7] * (int(length) - 1)}] * max(
        1, int(budget) // int(length)
    )
    forward_logits(loaded.model, rows[:1], loaded.tokenizer.pad_token_id, int(budget), loaded.device)  # warm-up
    if loaded.device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        base = proc_status_kib("VmRSS") * 1024
    _, seconds, _ = timed(
        lambda: forward_logits(loaded.model, rows, loaded.tokenizer.pad_token_id, int(budget), loaded.device),
        loaded.device,
    )
    peak = torch.cuda.max_memory_allocated() if loaded.device.type == "cuda" else proc_status_kib("VmHWM") * 1024
    return {"peak_mib": (peak - base) / 2**20, "tok_s": len(rows) * int(length) / seconds}


def proc_status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


if __name__ == "__main__":
    main()
