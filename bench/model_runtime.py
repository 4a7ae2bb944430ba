"""Model runtime benchmark: naive Hugging Face pipelines vs stancewire's runners, GEMM fraction of peak, peak memory.

    python bench/model_runtime.py                  # CPU or the GPU `auto` picks; a few minutes on 2 CPU cores
    python bench/model_runtime.py --device cpu --nli-sentences 40 --memory-budgets 512,2048

Models are base-size encoders (XLM-R base shape: 12 layers, hidden 768, 12 heads, FFN 3072, 512 positions) with
random weights: the compute is that of a trained model, and random predictions still produce entities, so the two
implementations must agree on every one. The vocabulary is a WordPiece trained on the benchmark texts (a few thousand
pieces instead of XLM-R's 250k): an embedding lookup costs the same whatever the table size. WordPiece also gives
both implementations the same notion of a word, so their entities are comparable one to one.

Texts: the `seeds/*.txt` articles under $STANCEWIRE_SHARED_DIR (default: a `shared` folder beside the checkout) when
present, else generated multilingual articles. Sentences are cut by the pipeline's own splitter, since the NER and
stance stages run on sentences.
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

from models.batching import forward_logits  # noqa: E402
from models.ner import load_ner  # noqa: E402
from models.nli import COLUMNS, load_nli  # noqa: E402
from stancewire.config import ModelSpec  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--ner-sentences", type=int, default=64, help="sentences for the NER comparison")
    parser.add_argument("--nli-sentences", type=int, default=16, help="sentences scored against each claim")
    parser.add_argument("--claims", type=int, default=2, help=f"claims per sentence (at most {len(CLAIMS)})")
    parser.add_argument("--chunks", type=int, default=4, help="naive and stancewire alternate over this many chunks")
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

    articles, origin = load_articles()
    sentences = [article[s:e] for article in articles for s, e in split_sentences(article)]
    with tempfile.TemporaryDirectory() as tmp:
        ner_dir, nli_dir, vocab = build_models(Path(tmp), articles)
        ner = load_ner(ModelSpec(id=str(ner_dir)), device=args.device)
        nli = load_nli(ModelSpec(id=str(nli_dir)), device=args.device)
        device = torch.device(ner.device)
        print(f"# stancewire model runtime benchmark — {describe(device)}")
        print(f"load average at the start: {os.getloadavg()[0]:.1f}")
        print(
            f"texts: {len(articles)} articles ({origin}), {sum(map(len, articles))} chars, {len(sentences)} sentences"
        )
        print(
            f"models: BERT encoder, {LAYERS} layers, hidden {HIDDEN}, {HEADS} heads, FFN {FFN}, {POSITIONS} positions, "
            f"WordPiece of {vocab} pieces trained on the texts, random weights (seed 0); "
            f"runner dtype {next(ner._loaded.model.parameters()).dtype}, token budget {ner._token_budget}, "
            f"torch threads {torch.get_num_threads()}"
        )
        report_truncation(ner._loaded.tokenizer, articles)

        ner_inputs = sentences[: args.ner_sentences]
        print("\n## NER: pipeline('token-classification', aggregation_strategy='first') per sentence vs NerRunner")
        naive_ner = pipeline("token-classification", model=str(ner_dir), aggregation_strategy="first", device=device)
        expected, got, times = side_by_side(lambda xs: [naive_ner(x) for x in xs], ner, ner_inputs, args.chunks, device)
        check_entities(expected, got, exact=device.type == "cpu")
        tokens = sum(len(ids) for ids in ner._loaded.tokenizer(ner_inputs)["input_ids"])
        print_speed(f"{len(ner_inputs)} sentences, {tokens} tokens", tokens, times)

        pairs = [(s, c) for s in sentences[: args.nli_sentences] for c in CLAIMS[: args.claims]]
        print("\n## NLI: pipeline('text-classification', top_k=None) per (sentence, claim) vs NliRunner")
        naive_nli = pipeline("text-classification", model=str(nli_dir), top_k=None, device=device)
        expected, got, times = side_by_side(
            lambda xs: [naive_nli({"text": p, "text_pair": h}) for p, h in xs], nli, pairs, args.chunks, device
        )
        check_probabilities(expected, np.concatenate(got), tolerance=1e-4 if device.type == "cpu" else 0.1)
        tokens = sum(
            len(ids) for ids in nli._loaded.tokenizer([p for p, _ in pairs], [h for _, h in pairs])["input_ids"]
        )
        print_speed(f"{len(pairs)} pairs ({args.claims} claims), {tokens} tokens", tokens, times)

        print("\n## Encoder forward vs measured GEMM throughput")
        fraction_of_peak(ner._loaded.model, device, ner._token_budget)

        print("\n## Peak memory per token budget (one forward of a full batch, NER model)")
        budgets = args.memory_budgets or ("512,1024,2048" if device.type == "cpu" else "2048,8192,32768,65536")
        memory_table(ner_dir, str(device), [int(b) for b in budgets.split(",")])
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


def side_by_side(naive: Callable, runner: Callable, inputs: list, chunks: int, device: torch.device):
    """Both implementations on the same chunks, alternating, so that load from other processes hits both alike.
    Returns the naive outputs, stancewire's outputs (one list entry per chunk for arrays) and the summed timings."""
    runner(inputs[:4])  # warm-up (lazy initialisation, allocator), for both
    naive(inputs[:1])
    size = -(-len(inputs) // chunks)
    expected, got, times = [], [], {"naive": [0.0, 0.0], "stancewire": [0.0, 0.0]}
    for start in range(0, len(inputs), size):
        chunk = inputs[start : start + size]
        for name, fn, sink in (("naive", naive, expected), ("stancewire", runner, got)):
            result, wall, cpu = timed(lambda: fn(chunk), device)  # noqa: B023 - called at once
            sink.extend(result) if isinstance(result, list) else sink.append(result)
            times[name][0] += wall
            times[name][1] += cpu
    return expected, got, times


def print_speed(what: str, tokens: int, times: dict[str, list[float]]) -> None:
    (naive_wall, naive_cpu), (ours_wall, ours_cpu) = times["naive"], times["stancewire"]
    print(
        f"{what}: naive {naive_wall:.1f} s ({tokens / naive_wall:.0f} tok/s), stancewire {ours_wall:.1f} s "
        f"({tokens / ours_wall:.0f} tok/s): **{naive_wall / ours_wall:.1f}x** wall-clock, "
        f"{naive_cpu / ours_cpu:.1f}x in CPU time ({naive_cpu:.0f} s vs {ours_cpu:.0f} s)"
    )


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


def check_entities(expected: list[list[dict]], got: list, exact: bool) -> None:
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
        f"entities: pipeline {len(want)}, stancewire {len(have)}, identical (span + label) {agree}, F1 {f1:.4f}, "
        f"max score difference {score_gap:.1e}"
    )
    if exact:
        assert want == have, f"entity mismatch: {sorted(want ^ have)[:5]}"
        assert score_gap < 1e-4, score_gap
    else:  # bf16 batched vs fp32 unbatched: near-ties between random labels may flip
        assert f1 > 0.8, f1


def check_probabilities(expected: list[list[dict]], got: np.ndarray, tolerance: float) -> None:
    naive = np.array([[{d["label"]: d["score"] for d in row}[c] for c in COLUMNS] for row in expected])
    gap = float(np.abs(naive - got).max())
    agree = float((naive.argmax(1) == got.argmax(1)).mean())
    print(
        f"probabilities: max |difference| {gap:.1e}, same argmax {agree:.1%}, "
        f"mean P(entailment, neutral, contradiction) {np.round(got.mean(0), 3).tolist()}"
    )
    assert gap < tolerance, gap


def flops_per_token(n: int) -> int:
    """Per token per layer: Q, K, V and output projections 4·2d², FFN 2·2·d·f, attention scores and mixing 2·2·n·d."""
    return LAYERS * (8 * HIDDEN**2 + 4 * HIDDEN * FFN + 4 * n * HIDDEN)


def fraction_of_peak(model, device: torch.device, budget: int, rounds: int = 2) -> None:
    """Best of `rounds` interleaved timings of the GEMM microbenchmark and the encoder (one full token budget per
    call), so that load from other processes hits both alike."""
    dtype = next(model.parameters()).dtype
    shapes = [(budget, HIDDEN, HIDDEN), (budget, HIDDEN, FFN), (budget, FFN, HIDDEN)]
    operands = [
        (torch.randn(m, k, device=device, dtype=dtype), torch.randn(k, n, device=device, dtype=dtype))
        for m, k, n in shapes
    ]
    batches = {
        n: torch.randint(5, model.config.vocab_size, (max(1, budget // n), n), device=device) for n in (128, 512)
    }
    gemm, encoder = [0.0] * len(shapes), dict.fromkeys(batches, 0.0)
    with torch.inference_mode():
        for ids in batches.values():
            model.bert(input_ids=ids, attention_mask=torch.ones_like(ids))  # warm-up
        for _ in range(rounds):
            for s, (a, b) in enumerate(operands):
                gemm[s] = max(gemm[s], rate(lambda: a @ b, 2 * a.shape[0] * a.shape[1] * b.shape[1], device, 0.3))  # noqa: B023
            for n, ids in batches.items():
                flops = ids.numel() * flops_per_token(n)
                mask = torch.ones_like(ids)
                encoder[n] = max(
                    encoder[n],
                    rate(lambda: model.bert(input_ids=ids, attention_mask=mask), flops, device),  # noqa: B023
                )
    # Per layer the linear FLOPs split 4·d² (Q, K, V, output) : d·f (FFN up) : d·f (FFN down).
    linear = 4 * HIDDEN**2 + 2 * HIDDEN * FFN
    mixed = linear / (4 * HIDDEN**2 / gemm[0] + HIDDEN * FFN / gemm[1] + HIDDEN * FFN / gemm[2])
    peak = max(gemm)
    print(
        f"GEMM {dtype} (best of {rounds}): "
        + ", ".join(f"{m}x{k}x{n} {g / 1e9:.1f}" for (m, k, n), g in zip(shapes, gemm, strict=False))
        + f" GFLOP/s; peak {peak / 1e9:.1f}, the encoder's mix of these shapes {mixed / 1e9:.1f}"
    )
    print(
        "FLOPs/token = layers·(8·d² + 4·d·f + 4·n·d), d=hidden, f=FFN, n=sequence length "
        f"({flops_per_token(128) / 1e6:.0f} MFLOP at n=128)"
    )
    for n, achieved in encoder.items():
        print(
            f"encoder forward, {max(1, budget // n)}x{n} tokens: {achieved / flops_per_token(n):.0f} tok/s, "
            f"{achieved / 1e9:.1f} GFLOP/s = **{achieved / peak:.0%} of GEMM peak** ({achieved / mixed:.0%} of the shape mix)"
        )


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
