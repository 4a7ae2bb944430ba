"""Name keys and alias lists: how spellings of one name are made to compare equal.

`name_key` folds case, diacritics, punctuation, hyphens and common transliteration endings, so that
"Kim Jong-un" / "Kim Jong Un" and "Zelensky" / "Zelenskyy" / "Zelenskiy" / "Zelenskij" share a key. Anything more
different than that (other languages, other transliteration systems, metonyms) is the alias list's job.

Alias list format, YAML:

    entities:
      - id: north-korea            # lowercase slug; the entity's key is "alias:<id>", so its id never changes
        type: LOC                  # the NER label set: PER, LOC, ORG, MISC, ...
        name: North Korea          # preferred name
        aliases: [Corea del Nord, Nordkorea, Corée du Nord, Corea del Norte]
        labels: [LOC, ORG]         # optional: NER labels a mention may carry to link here
                                   # (default: PER for people, every label except PER otherwise)
      - id: pyongyang
        type: LOC
        name: Pyongyang
        stands_for: north-korea    # optional: a metonym ("Pyongyang said...") may stand for this entity
      - id: north-korea
        demonyms: [nordcoreani, North Korean]  # optional: adjectives naming whose figures are counted
                                               # ("300 soldati nordcoreani"), read by the quantities stage

or CSV with a header `id,type,name,alias[,labels][,stands_for][,demonym]`, one alias (and demonym) per row (`labels`
separated by `|`). Later files extend earlier ones: the same id adds aliases and demonyms, and a given name, type,
labels or stands_for replaces.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from stancewire.ids import sha256_hex
from tasks.inputs.yaml_files import parse_yaml, yaml_problem

BUILTIN_ALIASES = Path(str(resources.files("stancewire").joinpath("aliases.yaml")))

_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th", "ð": "d"})
_SEPARATORS = re.compile(r"[\W_]+")  # anything but letters and digits: spaces, hyphens, apostrophes, dots
# Slavic surname and given-name endings that transliterate several ways: Zelenskyy / Zelenskiy / Zelenskij /
# Zelenskyi / Zelenski → zelensky, Andriy / Andrii → andry, Kryvyi → kryvy.
_ENDINGS = (re.compile(r"(?<=\w{3})(?:yy|iy|ij|yj|ii|yi)$"), re.compile(r"(?<=\wsk)i$"))
# Company legal forms as written after a name; a name ending in one is an organisation's (tasks/ner.py), and name
# keys leave it out.
LEGAL_FORMS = (
    "S.p.A.", "SpA", "S.r.l.", "Srl", "S.A.S.", "SAS", "S.A.", "SA", "S.L.", "GmbH", "AG", "KG", "Ltd.", "Ltd",
    "Limited", "plc", "PLC", "Inc.", "Inc", "Corp.", "Corp", "LLC", "N.V.", "NV", "B.V.", "BV", "SE", "Oy", "AB", "A/S",
    "S.à r.l.", "SARL",
)  # fmt: skip
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_LABEL = re.compile(r"^[A-Z][A-Z0-9_]{0,15}$")


class AliasFileError(ValueError):
    """An alias list cannot be used; the message says where and why."""


def _fold_token(token: str) -> str:
    for pattern in _ENDINGS:
        token = pattern.sub("y", token)
    return token


def name_key(text: str) -> str:
    """The comparison key of a name: lower case, no diacritics, words separated by single spaces, transliteration
    endings folded, a trailing legal form dropped ("Idroalpi S.p.A." → "idroalpi"). Empty when the text holds no
    letter or digit."""
    key = _folded_words(text)
    for form in _LEGAL_FORM_KEYS:
        if key.endswith(" " + form):
            return key[: -len(form) - 1]
    return key


def _folded_words(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(_fold_token(t) for t in _SEPARATORS.split(folded) if t)


_LEGAL_FORM_KEYS = sorted({_folded_words(f) for f in LEGAL_FORMS}, key=lambda k: (-len(k), k))  # longest first


def default_labels(entity_type: str) -> frozenset[str] | None:
    """NER labels allowed to link to an entry of this type; None means every label except PER."""
    return frozenset({"PER"}) if entity_type == "PER" else None


@dataclass(frozen=True)
class AliasEntry:
    id: str
    type: str
    name: str
    aliases: tuple[str, ...] = ()
    labels: frozenset[str] | None = None  # None: every label except PER
    stands_for: str | None = None
    demonyms: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"alias:{self.id}"

    def accepts(self, label: str) -> bool:
        return label in self.labels if self.labels is not None else label != "PER"

    def spellings(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.name, *self.aliases)))


@dataclass
class AliasList:
    entries: dict[str, AliasEntry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index: dict[str, list[AliasEntry]] = {}
        for entry in self.entries.values():
            for key in dict.fromkeys(name_key(s) for s in entry.spellings()):
                if key:
                    self._index.setdefault(key, []).append(entry)

    def lookup(self, key: str, *labels: str) -> list[AliasEntry]:
        """Entries with a spelling of this key that accept every one of `labels`."""
        return [e for e in self._index.get(key, []) if all(e.accepts(label) for label in labels)]

    def demonym_index(self) -> dict[str, AliasEntry]:
        """Folded demonym ("nordcoreani") → the entry it names; a demonym of several entries names none."""
        index: dict[str, list[AliasEntry]] = {}
        for entry in self.entries.values():
            for word in dict.fromkeys(name_key(d) for d in entry.demonyms):
                index.setdefault(word, []).append(entry)
        return {word: entries[0] for word, entries in index.items() if len(entries) == 1}

    @property
    def fingerprint(self) -> str:
        canonical = [
            [e.id, e.type, e.name, sorted(e.aliases), sorted(e.labels) if e.labels else None, e.stands_for]
            for e in sorted(self.entries.values(), key=lambda e: e.id)
        ]
        return sha256_hex(json.dumps(canonical, ensure_ascii=False))[:16]


def load_aliases(paths: Sequence[str | Path], *, builtin: bool = True) -> AliasList:
    """The built-in starter list (unless `builtin` is false) extended by each file in turn (YAML or CSV)."""
    merged: dict[str, dict[str, Any]] = {}
    for path in ([BUILTIN_ALIASES] if builtin else []) + [Path(p) for p in paths]:
        for where, record in _read(Path(path)):
            _merge(merged, record, where)
    entries = {}
    for entry_id, r in merged.items():
        if r.get("stands_for") and r["stands_for"] not in merged:
            raise AliasFileError(f"{r['where']}: stands_for {r['stands_for']!r} is not an id in the alias lists")
        labels = r.get("labels")
        entries[entry_id] = AliasEntry(
            id=entry_id,
            type=r["type"],
            name=r["name"],
            aliases=tuple(dict.fromkeys(r["aliases"])),
            labels=frozenset(labels) if labels else default_labels(r["type"]),
            stands_for=r.get("stands_for"),
            demonyms=tuple(dict.fromkeys(r.get("demonyms", []))),
        )
    return AliasList(entries)


def _read(path: Path) -> Iterable[tuple[str, Mapping[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AliasFileError(f"cannot read alias list {path}: {exc}") from exc
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        missing = {"id", "type", "name"} - set(reader.fieldnames or ())
        if missing:
            raise AliasFileError(f"alias list {path} lacks CSV columns {sorted(missing)}")
        for n, row in enumerate(reader, start=2):
            labels = [s.strip() for s in (row.get("labels") or "").split("|") if s.strip()]
            alias = (row.get("alias") or "").strip()
            demonym = (row.get("demonym") or "").strip()
            yield (
                f"{path}:{n}",
                {
                    "id": row["id"],
                    "type": row["type"],
                    "name": row["name"],
                    "aliases": [alias] if alias else [],
                    "labels": labels or None,
                    "stands_for": (row.get("stands_for") or "").strip() or None,
                    "demonyms": [demonym] if demonym else [],
                },
            )
        return
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise AliasFileError(f"alias list {path} is not valid YAML: {yaml_problem(exc)}") from exc
    items = raw.get("entities") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise AliasFileError(f"alias list {path} must hold a list under 'entities:'")
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise AliasFileError(f"{path}: entity #{n} is not a mapping")
        yield f"{path}: entity #{n} ({item.get('id')})", item


def _text(value: Any, what: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AliasFileError(f"{where}: {what} must be a non-empty string, not {value!r}")
    return value.strip()


def _merge(merged: dict[str, dict[str, Any]], record: Mapping[str, Any], where: str) -> None:
    unknown = set(record) - {"id", "type", "name", "aliases", "labels", "stands_for", "demonyms"}
    if unknown:
        raise AliasFileError(f"{where}: unknown fields {sorted(unknown)}")
    entry_id = _text(record.get("id"), "id", where)
    if not _ID.match(entry_id):
        raise AliasFileError(f"{where}: id {entry_id!r} must be a lowercase slug (a-z, 0-9, '.', '_', '-')")
    current = merged.setdefault(entry_id, {"aliases": [], "where": where})
    for name in ("type", "name"):
        if record.get(name) is not None:
            current[name] = _text(record[name], name, where)
        elif name not in current:
            raise AliasFileError(f"{where}: {name} is required")
    if not _LABEL.match(current["type"]):
        raise AliasFileError(f"{where}: type {current['type']!r} must be an upper-case NER label such as PER or LOC")
    aliases = record.get("aliases") or []
    if not isinstance(aliases, list):
        raise AliasFileError(f"{where}: aliases must be a list")
    current["aliases"] += [_text(a, "an alias", where) for a in aliases]
    demonyms = record.get("demonyms") or []
    if not isinstance(demonyms, list):
        raise AliasFileError(f"{where}: demonyms must be a list")
    current["demonyms"] = current.get("demonyms", []) + [_text(d, "a demonym", where) for d in demonyms]
    if record.get("labels"):
        labels = record["labels"]
        if not isinstance(labels, list) or not all(isinstance(x, str) and _LABEL.match(x) for x in labels):
            raise AliasFileError(f"{where}: labels must be a list of upper-case NER labels")
        current["labels"] = labels
    if record.get("stands_for"):
        current["stands_for"] = _text(record["stands_for"], "stands_for", where)
