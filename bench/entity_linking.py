"""Entity linking on the seed texts: mentions, canonical entities, the merges made, and pairwise merge precision and
recall against a hand-made gold, for the linker and simpler baselines side by side.

    python bench/entity_linking.py      # prints a note and exits 0 when the seed texts or the NER model are absent

Data: real Italian news texts in $STANCEWIRE_SHARED_DIR/seeds and the trained NER model in
$STANCEWIRE_SHARED_DIR/models/ner-e5small-it (default ../shared beside the checkout); texts are split into sentences
with tasks.text.sentences and run through the NER stage, then linked.

Gold: bench/gold/seeds_entities.json maps (file, surface[, occurrence]) of every mention the model finds to a cluster
of mentions that refer to the same real-world entity (cluster "-": NER noise such as "'" or an adjective, left out).
Occurrence counts the surface's earlier occurrences in the file; it separates "Corea del" + "Sud" from "Corea del" +
"Nord" in one file. Files are checked by sha256. A capital used for its government ("Mosca ha fornito...") is gold
Moscow, not Russia: the link to the state is `entity.stands_for`, not a merge.

Scores are pairwise over the mentions the gold labels: precision = pairs of mentions linked to one entity that the
gold puts in one cluster / pairs linked to one entity; recall = gold pairs linked to one entity / gold pairs.
"""

import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flows.link_mentions  # noqa: E402
from flows.link_mentions import link_pending  # noqa: E402
from stancewire.frames import ARTICLES, DOCUMENTS, ENTITIES, ENTITY_OVERRIDES, SENTENCES, empty  # noqa: E402
from stancewire.ids import sha256_hex  # noqa: E402
from stancewire.store import Store  # noqa: E402
from tasks.fetch import document_id  # noqa: E402
from tasks.inputs.aliases import AliasList, load_aliases, name_key  # noqa: E402
from tasks.link import link_mentions  # noqa: E402
from tasks.ner import extract_entities  # noqa: E402
from tasks.text.sentences import split_sentences  # noqa: E402

BENCH = Path(__file__).resolve().parent
GOLD = BENCH / "gold" / "seeds_entities.json"

QUERY = """
SELECT CAST(date_trunc('week', z.day) AS DATE) AS week, coalesce(z.site, z.source) AS source,
       count(DISTINCT z.article_id) AS articles
FROM v_entity_mentions z
WHERE z.entity_name = 'Volodymyr Zelensky'
  AND EXISTS (
    SELECT 1 FROM v_entity_mentions k JOIN sentences s USING (sentence_id)
    WHERE k.article_id = z.article_id
      AND 'North Korea' IN (k.entity_name, k.stands_for_name)
      AND regexp_matches(s.text, '(?i)troop|truppe|soldat|tropas|troupes|militari')
  )
GROUP BY ALL
ORDER BY week, source
"""


def shared_dir() -> Path:
    return Path(os.environ.get("STANCEWIRE_SHARED_DIR", BENCH.parent.parent / "shared"))


def read_seeds(seeds: Path) -> tuple[dict[str, str], pl.DataFrame]:
    """file name → text, and the sentences of every file (article_id = file name)."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt"))}
    rows = [
        {"sentence_id": f"{name}:{i}", "article_id": name, "idx": i, "start": s, "end": e, "text": text[s:e]}
        for name, text in texts.items()
        for i, (s, e) in enumerate(split_sentences(text))
    ]
    return texts, pl.DataFrame(rows, schema=SENTENCES)


def gold_of(mentions: pl.DataFrame, texts: dict[str, str]) -> dict[str, str]:
    """mention_id → gold cluster, for the mentions the gold labels."""
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    for name, digest in gold["files"].items():
        if name in texts and sha256_hex(texts[name]) != digest:
            print(f"warning: {name} differs from the file the gold was made on; its mentions are not scored")
            texts = {k: v for k, v in texts.items() if k != name}
    exact = {(f, s, o): c for f, s, o, c in gold["mentions"] if o is not None}
    every = {(f, s): c for f, s, o, c in gold["mentions"] if o is None}
    labelled = {}
    for m in mentions.iter_rows(named=True):
        if m["article_id"] not in texts:
            continue
        occurrence = texts[m["article_id"]].count(m["text"], 0, m["start"])
        cluster = exact.get((m["article_id"], m["text"], occurrence), every.get((m["article_id"], m["text"])))
        if cluster is None:
            print(f"warning: no gold for {m['article_id']} {m['text']!r} (occurrence {occurrence})")
        elif cluster != "-":
            labelled[m["mention_id"]] = cluster
    return labelled


def pairwise(predicted: dict[str, str], gold: dict[str, str]) -> dict[str, float]:
    ids = sorted(gold)
    same_pred = same_gold = both = 0
    for a, b in combinations(ids, 2):
        p, g = predicted[a] == predicted[b], gold[a] == gold[b]
        same_pred += p
        same_gold += g
        both += p and g
    precision = both / same_pred if same_pred else 1.0
    recall = both / same_gold if same_gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "linked_pairs": same_pred, "gold_pairs": same_gold}


def linker(aliases: AliasList):
    def run(mentions: pl.DataFrame) -> dict[str, str]:
        links = link_mentions(mentions, empty(ENTITIES), aliases, empty(ENTITY_OVERRIDES)).links
        return dict(links.select("mention_id", "entity_id").iter_rows())

    return run


def baseline(key) -> object:
    return lambda mentions: {m["mention_id"]: f"{m['label']}:{key(m['text'])}" for m in mentions.iter_rows(named=True)}


def show_entities(mentions: pl.DataFrame, aliases: AliasList) -> pl.DataFrame:
    result = link_mentions(mentions, empty(ENTITIES), aliases, empty(ENTITY_OVERRIDES))
    joined = result.links.join(mentions.select("mention_id", "text", "label"), on="mention_id").join(
        result.entities.select("entity_id", "name", "type"), on="entity_id"
    )
    table = (
        joined.group_by("entity_id", "name", "type")
        .agg(
            mentions=pl.len(),
            articles=pl.col("article_id").n_unique(),
            spellings=pl.col("text").unique().sort().str.join(" | "),
            methods=pl.col("method").unique().sort().str.join(","),
        )
        .sort("mentions", "name", descending=[True, False])
    )
    print(f"\n## Canonical entities: {table.height} from {mentions.height} mentions\n")
    with pl.Config(
        tbl_rows=-1,
        tbl_hide_dataframe_shape=True,
        fmt_str_lengths=70,
        tbl_width_chars=200,
        tbl_hide_column_data_types=True,
    ):
        print(table.drop("entity_id"))
    merges = table.filter((pl.col("spellings").str.contains(r"\|")) | (pl.col("articles") > 1))
    print(f"\n## Merges made: {merges.height} entities join several spellings or articles\n")
    for row in merges.iter_rows(named=True):
        print(
            f"- {row['name']} [{row['type']}] ← {row['spellings']}  ({row['mentions']} mentions, "
            f"{row['articles']} articles; {row['methods']})"
        )
    return joined


def show_errors(predicted: dict[str, str], gold: dict[str, str], mentions: pl.DataFrame) -> None:
    surface = {m["mention_id"]: f"{m['article_id'][:3]}:{m['text']}" for m in mentions.iter_rows(named=True)}
    wrong, missed = Counter(), defaultdict(set)
    for a, b in combinations(sorted(gold), 2):
        if predicted[a] == predicted[b] and gold[a] != gold[b]:
            wrong[tuple(sorted((surface[a], surface[b])))] += 1
    by_cluster = defaultdict(lambda: defaultdict(set))
    for mid, cluster in gold.items():
        by_cluster[cluster][predicted[mid]].add(surface[mid].split(":", 1)[1])
    for cluster, parts in by_cluster.items():
        if len(parts) > 1:
            missed[cluster] = [" | ".join(sorted(s)) for s in parts.values()]
    print(f"\n## Wrong merges (linked, gold says different): {len(wrong)} surface pairs")
    for (a, b), n in wrong.most_common():
        print(f"- {a}  ~  {b}  ({n} mention pairs)")
    print(f"\n## Missed merges (gold clusters split over several entities): {len(missed)}")
    for cluster, parts in sorted(missed.items()):
        print(f"- {cluster}: " + "  //  ".join(sorted(parts)))


def sql_demo(seeds: Path, texts: dict[str, str], sentences: pl.DataFrame, mentions: pl.DataFrame) -> None:
    """Land the seeds in a store (fetch day = file time: the seeds carry no dates), link, and run the query of docs/stance-and-entities.md."""
    flows.link_mentions.link_task = link_mentions  # the pure function: no Prefect engine needed here
    ids = {name: document_id(str(seeds / name), sha256_hex(text)) for name, text in texts.items()}
    docs = pl.DataFrame(
        [
            {
                "doc_id": ids[name],
                "source": f"seeds/{name[:3]}",
                "uri": str(seeds / name),
                "fetched_at": datetime.fromtimestamp((seeds / name).stat().st_mtime, UTC),
                "content_type": "text/plain",
                "content_hash": sha256_hex(text),
                "size_bytes": len(text.encode()),
                "payload": text.encode(),
            }
            for name, text in texts.items()
        ],
        schema=DOCUMENTS,
    )
    articles = pl.DataFrame(
        [
            {
                "article_id": d["doc_id"],
                "doc_id": d["doc_id"],
                "source": d["source"],
                "language": "it",
                "language_confidence": 1.0,
                "text": texts[Path(d["uri"]).name],
                "text_hash": d["content_hash"],
                "extractor": "plain",
            }
            for d in docs.iter_rows(named=True)
        ],
        schema=ARTICLES,
    )
    rename = pl.col("article_id").replace_strict(ids)
    sentences = sentences.with_columns(sentence_id=rename + ":" + pl.col("idx").cast(pl.String), article_id=rename)
    mentions = mentions.with_columns(
        sentence_id=rename + ":" + pl.col("sentence_id").str.split(":").list.last(), article_id=rename
    )
    with tempfile.TemporaryDirectory() as tmp, Store.open_run(Path(tmp) / "seeds.duckdb") as store:
        store.write_documents(docs, "bench")
        store.write_articles(articles, sentences, "bench")
        store.write_mentions(
            mentions,
            "bench",
            articles["article_id"],
            model_id=mentions["model_id"][0],
            model_revision=mentions["model_revision"][0],
        )
        counts = link_pending(store, "bench", load_aliases([]))
        print(f"\n## In DuckDB: {counts.mentions} mentions of {counts.articles} articles linked\n")
        print("Which sources mention Zelensky together with North Korean troops, per week:")
        print(QUERY)
        with pl.Config(tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
            print(store.query(QUERY))
            print(
                store.query(
                    "SELECT entity_name, other_name, sentences, articles FROM v_entity_cooccurrence_sentence "
                    "WHERE entity_name = 'Volodymyr Zelensky' ORDER BY sentences DESC, other_name LIMIT 8"
                )
            )


def link_speed(mentions: pl.DataFrame, aliases: AliasList, copies: int = 200) -> float:
    many = pl.concat(
        [
            mentions.with_columns(article_id=pl.col("article_id") + f"#{i}", mention_id=pl.col("mention_id") + f"#{i}")
            for i in range(copies)
        ]
    )
    start = time.perf_counter()
    link_mentions(many, empty(ENTITIES), aliases, empty(ENTITY_OVERRIDES))
    return many.height / (time.perf_counter() - start)


def main() -> int:
    shared = shared_dir()
    seeds, model_dir = shared / "seeds", shared / "models" / "ner-e5small-it"
    if not any(seeds.glob("*.txt")) or not (model_dir / "config.json").exists():
        print(f"skipped: needs seed texts in {seeds} and the NER model in {model_dir}")
        return 0
    from models.ner import load_ner
    from stancewire.config import ModelSpec

    texts, sentences = read_seeds(seeds)
    model = load_ner(ModelSpec(id=str(model_dir)), device="cpu")
    start = time.perf_counter()
    mentions = extract_entities(sentences, model)
    print(f"## Mentions: {mentions.height} in {len(texts)} seed texts (NER {time.perf_counter() - start:.1f} s)\n")
    for name, n in sorted(Counter(mentions["article_id"].to_list()).items()):
        print(
            f"- {name}: {n} mentions, labels "
            + ", ".join(f"{k} {v}" for k, v in sorted(Counter(mentions.filter(article_id=name)["label"]).items()))
        )

    aliases = load_aliases([])
    show_entities(mentions, aliases)
    gold = gold_of(mentions, texts)
    variants = {
        "surface + label (v_top_entities)": baseline(lambda t: " ".join(t.lower().split())),
        "name key + label": baseline(name_key),
        "rules, no alias list": linker(AliasList({})),
        "rules + built-in alias list": linker(aliases),
    }
    predictions = {name: run(mentions) for name, run in variants.items()}
    clusters = len(set(gold.values()))
    print(f"\n## Pairwise merge precision / recall: {len(gold)} gold-labelled mentions in {clusters} clusters\n")
    print("| variant | entities | precision | recall | F1 | linked pairs | gold pairs |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for name, predicted in predictions.items():
        s = pairwise(predicted, gold)
        entities = len({predicted[m] for m in gold})
        print(
            f"| {name} | {entities} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
            f"{s['linked_pairs']} | {s['gold_pairs']} |"
        )
    show_errors(predictions["rules + built-in alias list"], gold, mentions)
    sql_demo(seeds, texts, sentences, mentions)
    print(f"\nLinking speed: {link_speed(mentions, aliases):,.0f} mentions/s (pure function, one CPU core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
