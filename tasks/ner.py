"""NER stage: sentences in, entity mentions with offsets into the article text out, labelled as the text states
where it does (tasks/type_cues.py), else as the model says."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.frames import MENTIONS, by_stable_group, conform, empty
from stancewire.ids import stable_id
from stancewire.results import NerResult
from tasks.inputs.aliases import LEGAL_FORMS
from tasks.type_cues import stated_type

# Lowercase particles inside one name ("Corea del Nord", "Banco de España", "Ursula von der Leyen", "Bank of
# England"): a model that cuts a name at one of them leaves two adjacent spans that are one mention.
NAME_PARTICLES = frozenset(
    "del della delle dei degli dello di da de des du von van der den of al el do dos das".split()
)
# Articles, pronouns and conjunctions a model sometimes tags on their own (general stop lists hold names such as
# "Roma" or "Nord", so this short list is kept apart).
NOT_NAMES = frozenset(
    """il lo la i gli le l un una uno un' the a an this that it he she they der die das ein eine er sie es les un une
    el los las uno unos o os as um uma e ed y et und and or o oder ou questo questa ce cette""".split()
)
_WORD = re.compile(r"\w+")
_LEGAL_FORM = re.compile(" (?:" + "|".join(map(re.escape, sorted(LEGAL_FORMS, key=len, reverse=True))) + r")(?!\w)")
_ELIDED = re.compile(r"(?:[dl]|dell|all|nell|dall|sull|un|qu)['’]")


class MentionLike(Protocol):
    start: int
    end: int
    label: str
    score: float


class NerModel(Protocol):
    model_id: str
    revision: str

    def __call__(self, texts: Sequence[str]) -> list[list[MentionLike]]: ...


def extract_entities(sentences: pl.DataFrame, model: NerModel) -> pl.DataFrame:
    """Run `model` over every sentence, one batched call per stable group of articles (stancewire.ids: the same
    articles always run together, so results do not depend on what else was pending), and map mentions back to
    article offsets.

    `sentences` needs sentence_id, article_id, start, text (frames.SENTENCES).
    """
    if sentences.is_empty():
        return empty(MENTIONS)
    rows = []
    for group in by_stable_group(sentences):
        rows += _mentions(group, model)
    if not rows:
        return empty(MENTIONS)
    return conform(pl.DataFrame(rows, schema=MENTIONS), MENTIONS)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str
    score: float


def tidy_spans(text: str, mentions: Sequence[MentionLike]) -> list[Span]:
    """The model's spans in one text, without its two kinds of noise: a name cut at a particle into adjacent spans
    is one span again (labelled as its first part, scored as its weaker part), and a span that is no name at all
    (punctuation, an elided article such as "l'", a function word, words all in lower case) is dropped; a name
    followed by a company's legal form ("Idroalpi" + " S.p.A.") takes it in and is an organisation."""
    spans: list[Span] = []
    for m in sorted(mentions, key=lambda m: m.start):
        current = Span(m.start, m.end, m.label, float(m.score))
        if spans and _one_name(text, spans[-1], current):
            last = spans.pop()
            current = Span(last.start, current.end, last.label, min(last.score, current.score))
        spans.append(current)
    kept: list[Span] = []
    for span in (_with_legal_form(text, _trimmed(text, span)) for span in spans):
        if kept and span.start < kept[-1].end:
            continue  # inside the legal form the span before took in
        if _is_name(text[span.start : span.end]) and not _abbreviation_piece(text, span):
            kept.append(span)
    return kept


def _trimmed(text: str, span: Span) -> Span:
    """ "d'Istres" → "Istres", "Lumetra's" → "Lumetra": an elided article or preposition before a name and a
    possessive after it are not part of the name."""
    start, end = span.start, span.end
    match = _ELIDED.match(text, start, end)
    if match and match.end() < end and text[match.end()].isupper():
        start = match.end()
    if end - start > 3 and text[end - 2 : end] in ("'s", "’s"):
        end -= 2
    return Span(start, end, span.label, span.score) if (start, end) != (span.start, span.end) else span


def _with_legal_form(text: str, span: Span) -> Span:
    match = _LEGAL_FORM.match(text, span.end)
    return Span(span.start, match.end(), "ORG", span.score) if match else span


def _abbreviation_piece(text: str, span: Span) -> bool:
    """A lone letter cut from an abbreviation ("S" of "S.p.A.", "U" of "U.S.")."""
    return span.end - span.start == 1 and text[span.end : span.end + 1] == "."


def _one_name(text: str, left: Span, right: Span) -> bool:
    gap = text[left.end : right.start]
    if left.end > right.start or gap not in (" ", ""):
        return False
    left_words, right_words = _WORD.findall(text[left.start : left.end]), _WORD.findall(text[right.start : right.end])
    return bool(left_words and right_words) and (left_words[-1] in NAME_PARTICLES or right_words[0] in NAME_PARTICLES)


def _is_name(surface: str) -> bool:
    words = _WORD.findall(surface)
    if not words or not any(c.isalpha() for c in surface):
        return False
    if surface.rstrip().endswith(("'", "’")) and len("".join(words)) <= 3:  # l', d', un', dell'
        return False
    if any(c.islower() for c in surface) and not any(c.isupper() for c in surface):
        return False  # "ucraine", "regional government": adjectives and descriptions, in scripts that capitalise names
    return not (len(words) == 1 and words[0].lower() in NOT_NAMES)


def complete_names(text: str, spans: list[Span], names: set[str]) -> list[Span]:
    """A span the model cut short where the text goes on to spell a longer name found elsewhere in the article
    ("Centro ucraino" + " per le comunicazioni strategiche", "Marseille" + "-Fos") takes the whole name, and a span
    of the rest of that name ("Fos") goes with it."""
    completed: list[Span] = []
    for span in spans:
        if completed and span.start < completed[-1].end:
            continue
        surface = text[span.start : span.end]
        longer = [n for n in names if len(n) > len(surface) and n.startswith((surface + " ", surface + "-"))]
        whole = max((n for n in longer if text.startswith(n, span.start)), key=len, default=None)
        if whole and not _ends_inside_word(text, span.start + len(whole)):
            span = Span(span.start, span.start + len(whole), span.label, span.score)
        completed.append(span)
    return completed


def _ends_inside_word(text: str, end: int) -> bool:
    return end < len(text) and text[end].isalnum()


def _not_common_words(text: str, spans: list[Span], lower: set[str]) -> list[Span]:
    """Without a lone word that opens the sentence, capitalised only for that, and that the article also writes in
    lower case ("Union denies ..." next to "the union's demand")."""
    opening = re.match(r"[\W_]*", text).end()
    return [
        s
        for s in spans
        if not (s.start == opening and text[s.start : s.end].lower() in lower and " " not in text[s.start : s.end])
    ]


def _mentions(sentences: pl.DataFrame, model: NerModel) -> list[dict]:
    predictions = model(sentences["text"].to_list())
    tidy = [tidy_spans(s, m) for s, m in zip(sentences["text"], predictions, strict=True)]
    names: dict[str, set[str]] = {}
    for aid, text, spans in zip(sentences["article_id"], sentences["text"], tidy, strict=True):
        names.setdefault(aid, set()).update(text[s.start : s.end] for s in spans)
    lower: dict[str, set[str]] = {}
    for aid, text in zip(sentences["article_id"], sentences["text"], strict=True):
        lower.setdefault(aid, set()).update(w for w in _WORD.findall(text) if w.islower())
    rows = []
    for sentence, spans in zip(sentences.iter_rows(named=True), tidy, strict=True):
        completed = complete_names(sentence["text"], spans, names[sentence["article_id"]])
        for m in _not_common_words(sentence["text"], completed, lower[sentence["article_id"]]):
            start, end = sentence["start"] + m.start, sentence["start"] + m.end
            label, label_from = stated_type(sentence["text"], m.start, m.end, m.label)
            rows.append(
                {
                    "mention_id": stable_id(sentence["article_id"], start, end, label, model.model_id, model.revision),
                    "article_id": sentence["article_id"],
                    "sentence_id": sentence["sentence_id"],
                    "start": start,
                    "end": end,
                    "text": sentence["text"][m.start : m.end],
                    "label": label,
                    "label_from": label_from,
                    "score": float(m.score),
                    "model_id": model.model_id,
                    "model_revision": model.revision,
                }
            )
    return rows


@task(name="ner", cache_policy=NO_CACHE)
def ner_task(sentences: pl.DataFrame, article_ids: list[str], model: NerModel) -> NerResult:
    """The mentions `model` finds in the sentences of a batch of articles (those without sentences are done too)."""
    mentions = extract_entities(sentences, model)
    get_run_logger().info(
        "NER: %d sentences of %d articles → %d mentions", sentences.height, len(article_ids), mentions.height
    )
    return NerResult(mentions, article_ids, model.model_id, model.revision)
