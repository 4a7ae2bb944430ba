"""Link stage: entity mentions → canonical entities, one id per real-world entity.

The merge rule is conservative; a mention joins an entity only by one of these, tried in order, within its article:

1. alias_joined: two adjacent mentions (at most one character apart, e.g. "Corea del" + "Nord", which NER sometimes
   splits) whose joined text is a spelling of exactly one alias-list entry accepting both labels.
2. alias: the mention's name key (tasks.inputs.aliases.name_key: case, accents, hyphens, transliteration endings folded)
   is a spelling of exactly one alias-list entry that accepts its NER label.
3. short_form: a person's name the article also gives in full, by first or last words ("Zelensky", "Kim" after
   "Volodymyr Zelensky", "Kim Jong Un"), provided exactly one full name in the article fits. A mention NER labelled
   otherwise (LOC, ORG) joins only as the full name or the surname of that one person.
4. name: otherwise, the entity is its name key. Across articles, mentions merge only when their whole name keys
   are equal, so "Zelensky" alone in one article never merges with "Volodymyr Zelensky" in another, and two people
   who share a surname stay apart. A name's type is the label most of its mentions carry across the store (the store
   recomputes it after every link run: "Valmora" as LOC in four articles and PER in one is a LOC), so a model that
   labels a capital LOC in one article and ORG in the next makes one entity, not two. Labels the text states
   (mentions.label_from: a dateline, a head noun such as "comitato") count before the model's guesses.

Ids are stable_id("entity", entity_key), so reruns and later runs land on the same ids; since no rule looks beyond
one article, linking new articles never changes old links. Analyst overrides (merge, split) are applied on top, on
every run (`apply_overrides`).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.frames import ENTITIES, ENTITY_OVERRIDES, MENTION_LINKS, MENTIONS, QUARANTINE, conform, empty
from stancewire.ids import stable_id
from stancewire.results import LinkResult
from tasks.inputs.aliases import AliasEntry, AliasList, name_key
from tasks.type_cues import MODEL as MODEL_LABEL

LINKER_VERSION = "2"  # bump when the rules change: every article is linked again


def entity_id(entity_key: str) -> str:
    return stable_id("entity", entity_key)


def linker_fingerprint(aliases: AliasList) -> str:
    return f"{LINKER_VERSION}:{aliases.fingerprint}"


@dataclass
class _Choice:
    entity_key: str
    method: str
    reason: str
    alias: AliasEntry | None = None


def link_mentions(
    mentions: pl.DataFrame,
    existing: pl.DataFrame,
    aliases: AliasList,
    overrides: pl.DataFrame,
) -> LinkResult:
    """Link every mention of the given articles (pass all of an article's mentions: short forms are resolved
    within it). `existing` holds stored entities (ENTITIES), whose preferred names are kept; `overrides` the analyst
    corrections (ENTITY_OVERRIDES)."""
    mentions = conform(mentions, {c: t for c, t in MENTIONS.items() if c not in ("model_id", "model_revision")})
    rows = mentions.sort("article_id", "start", "end", "mention_id").to_dicts()
    fingerprint = linker_fingerprint(aliases)
    links, bad, chosen = [], [], []
    by_article: dict[str, list[dict[str, Any]]] = defaultdict(list)
    demonyms = aliases.demonym_index()
    for row in rows:
        row["key"] = name_key(row["text"] or "")
        if row["key"] in demonyms and not aliases.lookup(row["key"], row["label"]):
            bad.append(row | {"reason": "demonym", "why": f"is a demonym of {demonyms[row['key']].name}, not a name"})
        elif row["key"]:
            by_article[row["article_id"]].append(row)
        else:
            bad.append(row | {"reason": "no_name", "why": "has no letter or digit"})
    for article_rows in by_article.values():
        for row, choice in zip(article_rows, _link_article(article_rows, aliases), strict=True):
            chosen.append((row, choice))
            links.append(
                {
                    "mention_id": row["mention_id"],
                    "article_id": row["article_id"],
                    "entity_id": entity_id(choice.entity_key),
                    "rule_entity_id": entity_id(choice.entity_key),
                    "method": choice.method,
                    "reason": choice.reason,
                    "name_key": row["key"],
                    "override_id": None,
                    "linker": fingerprint,
                }
            )
    link_frame = pl.DataFrame(links, schema=MENTION_LINKS) if links else empty(MENTION_LINKS)
    return LinkResult(
        entities=_entities(chosen, existing, aliases),
        links=apply_overrides(link_frame, overrides),
        quarantine=_quarantine(bad),
        article_ids=mentions["article_id"].unique(maintain_order=True).to_list(),
    )


def _link_article(rows: list[dict[str, Any]], aliases: AliasList) -> list[_Choice]:
    choices: list[_Choice | None] = [None] * len(rows)
    _join_fragments(rows, choices, aliases)
    for i, row in enumerate(rows):
        if choices[i] is None:
            found = aliases.lookup(row["key"], row["label"])
            if len(found) == 1:
                reason = f"{row['text']!r} is a listed spelling of {found[0].name}"
                choices[i] = _Choice(found[0].key, "alias", reason, found[0])
    _resolve_short_forms(rows, choices)
    _name_entities(rows, choices)
    return choices  # type: ignore[return-value]


def _join_fragments(rows: list[dict[str, Any]], choices: list[_Choice | None], aliases: AliasList) -> None:
    for i in range(len(rows) - 1):
        a, b = rows[i], rows[i + 1]
        if a["sentence_id"] != b["sentence_id"] or not 0 <= b["start"] - a["end"] <= 1:
            continue
        joined = f"{a['text']} {b['text']}"
        found = aliases.lookup(name_key(joined), a["label"], b["label"])
        if len(found) == 1:
            reason = f"{a['text']!r} + {b['text']!r}: split by NER, together a listed spelling of {found[0].name}"
            choices[i] = choices[i + 1] = _Choice(found[0].key, "alias_joined", reason, found[0])


def _is_person(row: dict[str, Any], choice: _Choice | None) -> bool:
    return choice.alias.type == "PER" if choice is not None and choice.alias else row["label"] == "PER"


def _resolve_short_forms(rows: list[dict[str, Any]], choices: list[_Choice | None]) -> None:
    # Full names: person mentions of two words or more, each with the entity it links to (its own name otherwise).
    people: dict[str, tuple[tuple[str, ...], str, str]] = {}
    for row, choice in zip(rows, choices, strict=True):
        words = tuple(row["key"].split())
        if len(words) >= 2 and _is_person(row, choice):
            entity_key = choice.entity_key if choice else f"name:{row['key']}"
            people.setdefault(row["key"], (words, entity_key, row["text"]))
    for i, row in enumerate(rows):
        if choices[i] is not None:
            continue
        words = tuple(row["key"].split())
        person = row["label"] == "PER"
        fits = {
            entity_key: text
            for full, entity_key, text in people.values()
            if len(words) < len(full)
            and (full[-len(words) :] == words or (person and full[: len(words)] == words))
            or (not person and full == words)
        }
        if len(fits) == 1:
            ((entity_key, text),) = fits.items()
            relabelled = "" if person else f"; NER labelled it {row['label']}"
            choices[i] = _Choice(entity_key, "short_form", f"short form of {text!r} in this article{relabelled}")


def _name_entities(rows: list[dict[str, Any]], choices: list[_Choice | None]) -> None:
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    for row, choice in zip(rows, choices, strict=True):
        if choice is None:
            labels[row["key"]][row["label"]] += 1
    for i, row in enumerate(rows):
        if choices[i] is not None:
            continue
        counts = labels[row["key"]]
        reason = f"name {row['key']!r}"
        if len(counts) > 1:
            reason += " (labels in this article: " + ", ".join(f"{k}×{v}" for k, v in sorted(counts.items())) + ")"
        choices[i] = _Choice(f"name:{row['key']}", "name", reason)


def _entities(chosen: list[tuple[dict[str, Any], _Choice]], existing: pl.DataFrame, aliases: AliasList) -> pl.DataFrame:
    known = {r["entity_key"]: r for r in conform(existing, ENTITIES).to_dicts()}
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    labels: dict[str, Counter[tuple[bool, str]]] = defaultdict(Counter)
    entries: dict[str, AliasEntry] = {}
    for row, choice in chosen:
        surfaces[choice.entity_key][row["text"].strip()] += 1
        labels[choice.entity_key][(row["label_from"] != MODEL_LABEL, row["label"])] += 1
        if choice.alias:
            entries[choice.entity_key] = choice.alias
    for key in list(surfaces):  # a short form of an alias-linked full name; what a metonym stands for
        entry = entries.get(key) or aliases.entries.get(key.removeprefix("alias:"))
        if entry is not None and key.startswith("alias:"):
            entries[key] = entry
            if entry.stands_for:
                entries.setdefault(f"alias:{entry.stands_for}", aliases.entries[entry.stands_for])
    rows = []
    for key in dict.fromkeys([*surfaces, *entries]):
        counts = surfaces[key]
        entry = entries.get(key)
        if entry is not None:
            rows.append(_alias_row(entry, aliases))
            continue
        old = known.get(key)
        # A spelling of the full name (not a short form), the most frequent, then the longest, then the first in
        # sort order: stable for a given input.
        full = [s for s in counts if name_key(s) == key.split(":", 1)[1]] or list(counts)
        name = old["name"] if old else min(full, key=lambda s: (-counts[s], -len(s), s))
        rows.append(
            {
                "entity_id": entity_id(key),
                "entity_key": key,
                "type": old["type"] if old else _majority(labels[key]),
                "name": name,
                "declared_aliases": [],
                "stands_for": None,
                "origin": "mentions",
            }
        )
    return pl.DataFrame(rows, schema=ENTITIES) if rows else empty(ENTITIES)


def _majority(labels: Counter[tuple[bool, str]]) -> str:
    """The label most mentions carry, counting those the text states (a dateline, a head noun) first."""
    stated, every = Counter[str](), Counter[str]()
    for (is_stated, label), n in labels.items():
        every[label] += n
        stated[label] += n if is_stated else 0
    return min(every, key=lambda label: (-stated[label], -every[label], label))


def _alias_row(entry: AliasEntry, aliases: AliasList) -> dict[str, Any]:
    stands_for = aliases.entries.get(entry.stands_for) if entry.stands_for else None
    return {
        "entity_id": entity_id(entry.key),
        "entity_key": entry.key,
        "type": entry.type,
        "name": entry.name,
        "declared_aliases": list(entry.spellings()),
        "stands_for": entity_id(stands_for.key) if stands_for else None,
        "origin": "alias_list",
    }


def alias_entities(entries: list[AliasEntry], aliases: AliasList) -> pl.DataFrame:
    """Canonical entity rows of alias-list entries, for entities named other than by a mention (a demonym)."""
    rows = [_alias_row(entry, aliases) for entry in entries]
    return pl.DataFrame(rows, schema=ENTITIES) if rows else empty(ENTITIES)


def _quarantine(bad: list[dict[str, Any]]) -> pl.DataFrame:
    rows = [
        {
            "item_id": row["mention_id"],
            "stage": "link",
            "source": None,
            "uri": None,
            "reason": row["reason"],
            "detail": f"mention {row['text']!r} ({row['label']}) in article {row['article_id']} {row['why']}",
        }
        for row in bad
    ]
    return pl.DataFrame(rows, schema=QUARANTINE) if rows else empty(QUARANTINE)


# -- analyst overrides


class EntityNotFound(LookupError):
    """The reference names no entity, or several."""


def pick_entity(ref: str, by_id_or_key: pl.DataFrame, live: pl.DataFrame) -> dict[str, Any]:
    """The entity an analyst's `ref` names: its id, an id prefix or its key (`by_id_or_key`: the stored entities
    matching those), else the one entity not merged away (`live`) whose name, failing that whose alias, has the
    same name key. Raises EntityNotFound when none or several match."""
    if by_id_or_key.height == 1:
        return by_id_or_key.row(0, named=True)
    if by_id_or_key.height > 1:
        raise EntityNotFound(f"{ref!r} is the start of several entity ids: {_listing(by_id_or_key)}")
    key = name_key(ref)
    named = live.filter(pl.col("name").map_elements(name_key, return_dtype=pl.String) == key) if key else live.clear()
    if named.is_empty() and key:
        named = live.filter(
            pl.col("aliases").list.eval(pl.element().map_elements(name_key, return_dtype=pl.String)).list.contains(key)
        )
    if named.height == 1:
        return named.row(0, named=True)
    if named.is_empty():
        raise EntityNotFound(f"no entity is named {ref!r}: try `stancewire entities list --search {ref!r}`")
    raise EntityNotFound(f"{ref!r} names several entities, give an id: {_listing(named)}")


def _listing(frame: pl.DataFrame) -> str:
    return "; ".join(f"{r['entity_id'][:10]} {r['name']} ({r['entity_key']})" for r in frame.iter_rows(named=True))


def analyst_entity(name: str, entity_type: str) -> pl.DataFrame:
    """A new canonical entity an analyst names (ENTITIES, one row); ValueError when the name has no letter or digit."""
    if not name_key(name):
        raise ValueError(f"{name!r} holds no letter or digit")
    key = f"analyst:{entity_type.upper()}:{name_key(name)}"
    row = {
        "entity_id": entity_id(key),
        "entity_key": key,
        "type": entity_type.upper(),
        "name": name.strip(),
        "declared_aliases": [],
        "stands_for": None,
        "origin": "analyst",
    }
    return pl.DataFrame([row], schema=ENTITIES)


def override_row(
    action: str,
    entity_id: str,
    target_id: str,
    note: str | None,
    *,
    name_key: str | None = None,
    article_id: str | None = None,
    mention_id: str | None = None,
) -> pl.DataFrame:
    """One analyst override (ENTITY_OVERRIDES): merge `entity_id` into `target_id`, or split the mentions the
    selectors pick off `entity_id` into `target_id`."""
    row = {
        "override_id": uuid.uuid4().hex,
        "action": action,
        "entity_id": entity_id,
        "target_id": target_id,
        "name_key": name_key,
        "article_id": article_id,
        "mention_id": mention_id,
        "note": note,
        "created_at": datetime.now(UTC),
    }
    return pl.DataFrame([row], schema=ENTITY_OVERRIDES)


def merge_targets(overrides: pl.DataFrame) -> dict[str, str]:
    """entity_id → the entity it was merged into, following chains (a merge that would close a cycle is ignored)."""
    direct: dict[str, str] = {}
    merges = conform(overrides, ENTITY_OVERRIDES).filter(pl.col("action") == "merge")
    for row in merges.sort("created_at", "override_id").iter_rows(named=True):
        if _resolve(direct, row["target_id"]) != row["entity_id"]:
            direct[row["entity_id"]] = row["target_id"]
    return {source: _resolve(direct, source) for source in direct}


def _resolve(direct: dict[str, str], eid: str) -> str:
    seen = {eid}
    while eid in direct and direct[eid] not in seen:
        eid = direct[eid]
        seen.add(eid)
    return eid


def apply_overrides(links: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """Recompute entity_id and override_id of every link from rule_entity_id: merges first (a merged entity's
    mentions belong to its target), then each split in the order analysts made them."""
    overrides = conform(overrides, ENTITY_OVERRIDES)
    merged = merge_targets(overrides)
    merge_ids = {
        r["entity_id"]: r["override_id"] for r in overrides.filter(pl.col("action") == "merge").iter_rows(named=True)
    }

    def resolved(column: str) -> pl.Expr:
        return pl.col(column).replace_strict(merged, default=pl.col(column), return_dtype=pl.String)

    links = links.with_columns(
        entity_id=resolved("rule_entity_id"),
        override_id=pl.col("rule_entity_id").replace_strict(merge_ids, default=None, return_dtype=pl.String),
    )
    for split in overrides.filter(pl.col("action") == "split").sort("created_at", "override_id").iter_rows(named=True):
        match = pl.col("entity_id") == merged.get(split["entity_id"], split["entity_id"])
        for column in ("name_key", "article_id", "mention_id"):
            if split[column] is not None:
                match &= pl.col(column) == split[column]
        target = merged.get(split["target_id"], split["target_id"])
        links = links.with_columns(
            entity_id=pl.when(match).then(pl.lit(target)).otherwise(pl.col("entity_id")),
            override_id=pl.when(match).then(pl.lit(split["override_id"])).otherwise(pl.col("override_id")),
        )
    return conform(links, MENTION_LINKS)


@task(name="link", cache_policy=NO_CACHE)
def link_task(
    mentions: pl.DataFrame, existing: pl.DataFrame, aliases: AliasList, overrides: pl.DataFrame
) -> LinkResult:
    result = link_mentions(mentions, existing, aliases, overrides)
    get_run_logger().info(
        "link: %d mentions of %d articles → %d entities (%s)",
        mentions.height,
        mentions["article_id"].n_unique() if mentions.height else 0,
        result.links["entity_id"].n_unique(),
        ", ".join(f"{m} {n}" for m, n in sorted(Counter(result.links["method"].to_list()).items())),
    )
    return result
