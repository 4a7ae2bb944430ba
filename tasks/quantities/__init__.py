"""Quantities stage: figures with what they count, their role, whose they are and when, read from sentences.

A figure is read in the article's locale (tasks/quantities/numbers.py), given its counted thing, role and dates
(meaning.py, with the multilingual cues of cues.yaml) and its subjects, the entities whose figure it is, said by
`subject_from`:
- thing: a demonym of the alias lists next to the counted noun ("300 soldati nordcoreani" → North Korea);
- sentence: the entities of its sentence, and demonyms in it; a metonym counts as what it stands for (Pyongyang →
  North Korea), and those naming where the figure was heard ("secondo fonti di Seul") or, when they are no place,
  its setting ("nella scorsa Serie B ha collezionato 36 presenze") are left out;
- article: else the entities of the article's title and lead (what it is about);
- neighbour: else those of the sentence before, then the one after (an article whose lead names nothing).
Numbers that cannot be read safely are quarantined with the reason, never guessed.
"""

import re
from dataclasses import dataclass

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.frames import QUANTITIES, QUARANTINE, conform, empty
from stancewire.ids import stable_id
from stancewire.results import QuantitiesResult
from tasks.inputs.aliases import AliasEntry, AliasList, name_key
from tasks.link import alias_entities, entity_id
from tasks.quantities.cues import cues
from tasks.quantities.meaning import Meaning, read_meaning
from tasks.quantities.numbers import CLAUSE_END, Number, read_numbers
from tasks.text.stems import fold, stem

EXTRACTOR_VERSION = "3"
LEAD_SENTENCES = 3  # the title and the first sentences: where an article names what it is about
_THING_REACH = 7  # words after the number in which a demonym tells whose the counted thing is
_WORD_SPAN = re.compile(r"\S+")


@dataclass(frozen=True)
class _Sentence:
    sentence_id: str
    article_id: str
    idx: int
    start: int
    text: str


def extract_quantities(
    sentences: pl.DataFrame, articles: pl.DataFrame, mentions: pl.DataFrame, aliases: AliasList
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(quantities, entities the demonyms name, quarantine rows) of `sentences` (sentence_id, article_id, idx, start,
    text); `articles`: article_id, language, day (the date the article refers to, or null); `mentions`: the latest
    mentions with their canonical entity (sentence_id, start, entity_id, entity_type, stands_for)."""
    meta = {r["article_id"]: r for r in articles.iter_rows(named=True)}
    demonyms = aliases.demonym_index()
    named = _entities_by_sentence(mentions)
    by_article: dict[str, list[_Sentence]] = {}
    for row in sentences.sort("article_id", "idx").iter_rows(named=True):
        by_article.setdefault(row["article_id"], []).append(
            _Sentence(row["sentence_id"], row["article_id"], row["idx"], row["start"], row["text"])
        )
    rows, skipped, used = [], [], {}
    for aid, article in by_article.items():
        info = meta.get(aid, {})
        language, day = info.get("language"), info.get("day")
        named_in, in_sentence = zip(*(_sentence_subjects(s, named, demonyms, used) for s in article), strict=True)
        lead = _unique([e for subjects in named_in[:LEAD_SENTENCES] for e in subjects])
        for i, sentence in enumerate(article):
            numbers, bad = read_numbers(sentence.text, language)
            skipped += [_quarantine_row(sentence, b.start, b.end, b.reason) for b in bad]
            for j, number in enumerate(numbers):
                previous_end = numbers[j - 1].end if j else 0
                next_start = numbers[j + 1].start if j + 1 < len(numbers) else len(sentence.text)
                meaning = read_meaning(number, sentence.text, previous_end, next_start, day)
                subjects, subject_from = _subjects(number, sentence, i, in_sentence, lead, demonyms, used, next_start)
                rows.append(_row(sentence, number, meaning, subjects, subject_from))
    found = conform(pl.DataFrame(rows, schema=QUANTITIES), QUANTITIES) if rows else empty(QUANTITIES)
    quarantine = pl.DataFrame(skipped, schema=QUARANTINE) if skipped else empty(QUARANTINE)
    return found, alias_entities(list(used.values()), aliases), quarantine


def _entities_by_sentence(mentions: pl.DataFrame) -> dict[str, list[tuple[int, str, bool]]]:
    """sentence_id → (article offset, canonical entity id, whether it is a place) in order, a metonym replaced by
    what it stands for."""
    named: dict[str, list[tuple[int, str, bool]]] = {}
    columns = ("sentence_id", "start", "entity_id", "entity_type", "stands_for")
    for sid, start, eid, etype, stands_for in mentions.sort("sentence_id", "start").select(columns).iter_rows():
        if eid is not None:
            named.setdefault(sid, []).append((start, stands_for or eid, etype == "LOC"))
    return named


def _demonyms_in(text: str, demonyms: dict[str, AliasEntry]) -> list[tuple[int, AliasEntry]]:
    words = list(_WORD_SPAN.finditer(text))
    found = []
    for i, word in enumerate(words):
        for n in (2, 1):
            entry = demonyms.get(name_key(" ".join(w[0] for w in words[i : i + n])))
            if entry is not None:
                found.append((word.start(), entry))
                break
    return found


def _sentence_subjects(
    sentence: _Sentence,
    named: dict[str, list[tuple[int, str, bool]]],
    demonyms: dict[str, AliasEntry],
    used: dict[str, AliasEntry],
) -> tuple[list[str], list[str]]:
    """(what a sentence is about, whose its figures can be): its mentions and demonyms, except those naming where it
    was heard ("Secondo l'intelligence di Seul, ...", "according to port agents", "nach Informationen von
    Sportecho"); the second list also leaves out what is not a place but only the setting ("nella scorsa Serie B ha
    collezionato 36 presenze"). A place stays: "31 vessels were anchored in the Gulf of Fos" counts the Gulf's."""
    heard = [
        (m.start(), m.start() + len(CLAUSE_END.split(sentence.text[m.start() :])[0]))
        for m in cues().source.finditer(fold(sentence.text))
    ]
    subjects, whose = [], []
    for start, eid, place in named.get(sentence.sentence_id, []):
        at = start - sentence.start
        if not any(a <= at < b for a, b in heard):
            subjects.append(eid)
            if place or not cues().in_at_end.search(fold(sentence.text[max(0, at - 40) : at])):
                whose.append(eid)
    for start, entry in _demonyms_in(sentence.text, demonyms):
        if not any(a <= start < b for a, b in heard):
            used[entry.id] = entry
            subjects.append(entity_id(entry.key))
            whose.append(entity_id(entry.key))
    return _unique(subjects), _unique(whose)


def _subjects(
    number: Number,
    sentence: _Sentence,
    i: int,
    in_sentence: list[list[str]],
    lead: list[str],
    demonyms: dict[str, AliasEntry],
    used: dict[str, AliasEntry],
    next_start: int,
) -> tuple[list[str], str]:
    if number.object_before:
        before = sentence.text[: number.start]
        phrase = before[before.rfind(number.object) + len(number.object) :]
    else:
        phrase = sentence.text[number.end : next_start]
    owners = _demonyms_in(_owner_phrase(phrase), demonyms)
    if owners:
        owner = owners[0][1]
        used[owner.id] = owner
        return [entity_id(owner.key)], "thing"
    if in_sentence[i]:
        return in_sentence[i], "sentence"
    if lead:
        return lead, "article"
    for k in (i - 1, i + 1):
        if 0 <= k < len(in_sentence) and in_sentence[k]:
            return in_sentence[k], "neighbour"
    return [], "article"


def _owner_phrase(text: str) -> str:
    """The words after a counted noun that can say whose it is: up to the end of the clause or a place."""
    words = []
    for word in CLAUSE_END.split(text)[0].split()[:_THING_REACH]:
        if fold(word) in cues().place_words:
            break
        words.append(word)
    return " ".join(words)


def _unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _row(sentence: _Sentence, number: Number, meaning: Meaning, subjects: list[str], subject_from: str) -> dict:
    start, end = sentence.start + number.start, sentence.start + number.end
    return {
        "quantity_id": stable_id(sentence.article_id, start, end),
        "article_id": sentence.article_id,
        "sentence_id": sentence.sentence_id,
        "start": start,
        "end": end,
        "text": sentence.text[number.start : number.end],
        "value": number.value,
        "value_max": number.value_max,
        "qualifier": number.qualifier,
        "unit": number.unit,
        "object": number.object,
        "object_key": stem(number.object) if number.object else None,
        "thing": meaning.thing or number.unit,
        "role": meaning.role,
        "estimated": meaning.estimated,
        "subjects": subjects,
        "subject_from": subject_from if subjects else None,
        "refers_from": meaning.refers_from,
        "refers_to": meaning.refers_to,
        "date_from": meaning.date_from if meaning.refers_from else None,
    }


def _quarantine_row(sentence: _Sentence, start: int, end: int, reason: str) -> dict:
    text = sentence.text[start:end]
    return {
        "item_id": stable_id(sentence.article_id, sentence.start + start, sentence.start + end),
        "stage": "quantities",
        "source": None,
        "uri": None,
        "reason": reason,
        "detail": f"{text[:60]!r} in sentence {sentence.sentence_id}: not read as a quantity",
    }


@task(name="quantities", cache_policy=NO_CACHE)
def quantities_task(
    sentences: pl.DataFrame, articles: pl.DataFrame, mentions: pl.DataFrame, aliases: AliasList
) -> QuantitiesResult:
    """The quantities of a batch of articles (`articles`: article_id, language, day), every one of them marked read."""
    found, entities, quarantine = extract_quantities(sentences, articles, mentions, aliases)
    get_run_logger().info(
        "quantities: %d in %d sentences, %d numbers skipped", found.height, sentences.height, quarantine.height
    )
    return QuantitiesResult(found, articles["article_id"].to_list(), EXTRACTOR_VERSION, entities, quarantine)


__all__ = ["EXTRACTOR_VERSION", "extract_quantities", "quantities_task"]
