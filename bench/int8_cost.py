"""What int8 dynamic quantisation (`--precision int8`) costs and buys on CPU: entities vs fp32 on the same sentences, and speed.

    python bench/int8_cost.py                       # the trained NER model beside the checkout, when present
    python bench/int8_cost.py --model /models/my-ner --texts /data/articles

Needs a trained token-classification model (random weights would make agreement meaningless): --model, else
`models/ner-e5small-it` under $STANCEWIRE_SHARED_DIR (default: a `shared` folder beside the checkout). Texts:
--texts (a folder of .txt files), else `seeds/*.txt` there, else the generated articles of bench/model_runtime.py. fp32 is the reference: "precision"
is the share of int8 entities that fp32 also finds (same span and label), "recall" the converse.
"""

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model_runtime import REPO_ROOT, generated_articles  # noqa: E402  (also puts the repository on sys.path)

from models.ner import load_ner  # noqa: E402
from stancewire.config import ModelSpec  # noqa: E402
from tasks.text.sentences import split_sentences  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="trained token-classification model directory")
    parser.add_argument("--texts", type=Path, help="folder of .txt articles")
    parser.add_argument("--rounds", type=int, default=2, help="timed passes over all sentences, per precision")
    args = parser.parse_args()
    shared = Path(os.environ.get("STANCEWIRE_SHARED_DIR", REPO_ROOT.parent / "shared"))
    model = args.model or shared / "models" / "ner-e5small-it"
    if not (model / "config.json").is_file():
        print(f"no trained NER model at {model}: pass --model DIR")
        return
    folder = args.texts or shared / "seeds"
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    articles = [f.read_text(encoding="utf-8") for f in files] or generated_articles(6)
    sentences = [a[s:e] for a in articles for s, e in split_sentences(a)]

    fp32 = load_ner(ModelSpec(id=str(model)), device="cpu")
    int8 = load_ner(ModelSpec(id=str(model)), device="cpu", precision="int8")
    config = fp32._loaded.model.config
    tokens = sum(len(ids) for ids in fp32._loaded.tokenizer(sentences)["input_ids"])
    print(
        f"# int8 dynamic quantisation vs fp32 — {config.model_type}, {config.num_hidden_layers} layers, "
        f"hidden {config.hidden_size}; {len(articles)} articles ({'given' if files else 'generated'}), "
        f"{len(sentences)} sentences, {tokens} tokens; torch threads {fp32_threads()}; load {os.getloadavg()[0]:.1f}"
    )

    times = {"fp32": [0.0, 0.0], "int8": [0.0, 0.0]}
    results = {}
    for runner in (fp32, int8):
        runner(sentences[:4])  # warm-up
    for _ in range(args.rounds):  # alternating, so that load from other processes hits both alike
        for name, runner in (("fp32", fp32), ("int8", int8)):
            start, cpu = time.perf_counter(), time.process_time()
            results[name] = runner(sentences)
            times[name][0] += time.perf_counter() - start
            times[name][1] += time.process_time() - cpu

    reference = {(i, m.start, m.end, m.label) for i, ms in enumerate(results["fp32"]) for m in ms}
    quantized = {(i, m.start, m.end, m.label) for i, ms in enumerate(results["int8"]) for m in ms}
    both = reference & quantized
    print(
        f"entities: fp32 {len(reference)}, int8 {len(quantized)}, identical {len(both)}; "
        f"precision {len(both) / max(1, len(quantized)):.3f}, recall {len(both) / max(1, len(reference)):.3f}, "
        f"F1 {2 * len(both) / max(1, len(reference) + len(quantized)):.3f} (fp32 as reference)"
    )
    print("| label | fp32 | int8 | identical | F1 |")
    print("|---|---:|---:|---:|---:|")
    ref_by, q_by, both_by = (Counter(label for *_, label in s) for s in (reference, quantized, both))
    for label in sorted(ref_by | q_by):
        f1 = 2 * both_by[label] / max(1, ref_by[label] + q_by[label])
        print(f"| {label} | {ref_by[label]} | {q_by[label]} | {both_by[label]} | {f1:.3f} |")
    for mismatch in sorted(reference ^ quantized)[:8]:
        i, start, end, label = mismatch
        print(f"  {'fp32 only' if mismatch in reference else 'int8 only'}: {sentences[i][start:end]!r} {label}")
    (f_wall, f_cpu), (q_wall, q_cpu) = times["fp32"], times["int8"]
    print(
        f"speed ({args.rounds} passes each): fp32 {tokens * args.rounds / f_wall:.0f} tok/s, "
        f"int8 {tokens * args.rounds / q_wall:.0f} tok/s: **{f_wall / q_wall:.2f}x** wall-clock, "
        f"{f_cpu / q_cpu:.2f}x in CPU time"
    )


def fp32_threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()
