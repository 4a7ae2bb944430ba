"""Quantities stage: numbers with what they count or measure, read from sentences in the article's locale.

"1.000" and "10.000" are thousands in Italian, German, Spanish, French (which also writes "10 000"), "1,000" in
English; "1,5 milioni" and "1.5 million" are 1 500 000. A number counts when something is measured: an object noun
after it ("3.000 soldati", "1,000 troops"), a unit or currency ("25%", "2 milioni di euro"), or a preceding
"totale delle truppe a 11.000". Qualifiers before the number ("oltre", "circa", "almeno", "più di", "more than",
"about", "at least", ...) and ranges ("tra 10.000 e 12.000", "between 10 and 12 thousand", "10-12") are kept, so a
value reads as an interval: exact [v, v], about [0.9v, 1.1v], more_than/at_least [v, ∞), less_than/at_most [0, v],
range [v, v_max]. Years, days of the month and codes like "F-16" are not quantities. Each quantity is linked to the
entity mentions of its sentence.
"""

import re
from dataclasses import dataclass

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.frames import QUANTITIES, conform, empty
from stancewire.ids import stable_id
from stancewire.results import QuantitiesResult
from tasks.text.stems import STOPWORDS, fold, stem

EXTRACTOR_VERSION = "1"
_DOT_THOUSANDS = {"it", "de", "es", "fr", "pt", "nl", "da", "sv", "no", "pl", "ro", "tr", "id"}
_SPACE = "[ \u00a0\u202f]"

_QUALIFIERS = {
    "more_than": "più di|oltre|piu di|sopra i|more than|over|upwards of|plus de|mehr als|über|más de|mas de",
    "at_least": "almeno|non meno di|at least|no fewer than|no less than|au moins|mindestens|al menos|por lo menos",
    "about": "circa|intorno a|intorno ai|quasi|approssimativamente|all'incirca|about|around|approximately|roughly|"
    "nearly|almost|some|environ|près de|pres de|quelque|etwa|rund|ungefähr|ungefahr|fast|unos|unas|alrededor de|"
    "cerca de|casi|aproximadamente",
    "less_than": "meno di|less than|fewer than|under|moins de|weniger als|menos de",
    "at_most": "fino a|al massimo|non più di|up to|at most|no more than|jusqu'à|jusqu'a|au plus|bis zu|höchstens|"
    "hasta|como máximo",
}
_QUALIFIER_PHRASES = sorted((fold(p) for ps in _QUALIFIERS.values() for p in ps.split("|")), key=len, reverse=True)
_QUALIFIER_RE = re.compile(r"(?:^|[^\w'’])(" + "|".join(map(re.escape, _QUALIFIER_PHRASES)) + r")\s*$")
_QUALIFIER_OF = {fold(p): q for q, ps in _QUALIFIERS.items() for p in ps.split("|")}
_RANGE_START = re.compile(r"(?:^|\W)(tra|fra|between|from|entre|zwischen|da|von|de)\s*$")
_RANGE_JOIN = r"\s*(?:-|–|—|e|a|and|to|et|à|und|bis|y)\s*"

_MULTIPLIERS = {
    "mila": 1e3, "mille": 1e3, "thousand": 1e3, "thousands": 1e3, "tausend": 1e3, "mil": 1e3,
    "milioni": 1e6, "milione": 1e6, "mln": 1e6, "million": 1e6, "millions": 1e6, "mn": 1e6, "millionen": 1e6,
    "millones": 1e6, "millón": 1e6, "millon": 1e6,
    "miliardi": 1e9, "miliardo": 1e9, "mld": 1e9, "billion": 1e9, "billions": 1e9, "bn": 1e9, "milliarden": 1e9,
    "milliarde": 1e9, "mrd": 1e9, "milliards": 1e9, "milliard": 1e9,
}  # fmt: skip
_UNITS = {
    "%": "%", "per cento": "%", "percento": "%", "percent": "%", "per cent": "%", "pour cent": "%",
    "prozent": "%", "por ciento": "%",
    "euro": "EUR", "€": "EUR", "dollari": "USD", "dollars": "USD", "dollar": "USD", "dollaro": "USD",
    "$": "USD", "dólares": "USD", "sterline": "GBP", "pounds": "GBP", "£": "GBP", "franchi": "CHF",
    "francs": "CHF", "franken": "CHF", "chf": "CHF", "usd": "USD", "eur": "EUR", "gbp": "GBP",
    "km": "km", "chilometri": "km", "kilometres": "km", "kilometers": "km", "kilomètres": "km", "kilometer": "km",
    "kilómetros": "km", "metri": "m", "metres": "m", "meters": "m", "mètres": "m", "meter": "m", "m": "m",
    "kg": "kg", "chili": "kg", "tonnellate": "t", "tonnes": "t", "tons": "t", "tonnen": "t", "t": "t",
    "ettari": "ha", "hectares": "ha", "hektar": "ha", "ha": "ha",
}  # fmt: skip
_MONTHS = frozenset(
    "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre january february "
    "march april may june july august september october november december janvier fevrier mars avril mai juin "
    "juillet aout septembre octobre novembre decembre januar februar marz juni juli oktober dezember enero febrero "
    "abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()
)
_CONNECTORS = r"(?:(?:di|de|d['’]|of|des|dei|degli|delle|della|del)\s*)?"
_UNIT_RE = re.compile(
    r"\s*" + _CONNECTORS + r"(" + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True)) + r")(?!\w)",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"\s*([^\W\d_]{3,})(?!['’\w])", re.UNICODE)  # not an elided "dell'"
_TOTAL_OF = re.compile(
    r"(?:totale|numero|cifra|total|number|nombre|gesamtzahl|zahl)\s+(?:di|dei|degli|delle|of|de|des|der)?\s*"
    r"([^\W\d_]{3,})\s+(?:a|è|di|at|to|of|à|auf|en|es)?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quantity:
    start: int  # offsets into the parsed text, end exclusive
    end: int
    value: float
    value_max: float
    qualifier: str  # exact | about | more_than | at_least | less_than | at_most | range
    unit: str | None
    object: str | None


def _number_pattern(language: str) -> str:
    if language in _DOT_THOUSANDS:
        grouped = rf"\d{{1,3}}(?:\.\d{{3}})+(?:,\d+)?|\d{{1,3}}(?:{_SPACE}\d{{3}})+(?:,\d+)?|\d+(?:,\d+)?"
    else:
        grouped = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
    return rf"(?<![\w/:.,])(?:{grouped})(?![\w/:]|[.,]\d)"


def _to_float(token: str, language: str) -> float:
    if language in _DOT_THOUSANDS:
        return float(re.sub(rf"[.{_SPACE[1:-1]}]", "", token).replace(",", "."))
    return float(token.replace(",", ""))


def _compiled(language: str) -> re.Pattern[str]:
    number = _number_pattern(language)
    mult = r"(?:\s*(" + "|".join(sorted(_MULTIPLIERS, key=len, reverse=True)) + r")(?!\w))?"
    return re.compile(rf"({number}){mult}(?:{_RANGE_JOIN}({number}){mult})?", re.IGNORECASE)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def parse_quantities(text: str, language: str | None) -> list[Quantity]:
    """Every measured quantity in `text`, read in the conventions of `language` (ISO 639-1; English when unknown)."""
    lang = language or "en"
    pattern = _PATTERNS.setdefault(lang, _compiled(lang))
    stop = STOPWORDS.get(lang, frozenset())
    found = []
    for m in pattern.finditer(text):
        start = m.start()
        if start >= 2 and text[start - 1] in "-–" and text[start - 2].isalpha():
            continue  # a code such as "F-16"
        before = fold(text[max(0, start - 40) : start])
        is_range = m.group(3) is not None
        if is_range and not (_RANGE_START.search(before) or re.match(r"\d[\d.,]*\s*[-–]", m.group(0))):
            is_range = False  # "10 e 12" without "tra": two numbers, read the first one only
        end = m.end() if is_range else m.end(2) if m.group(2) else m.end(1)
        low = _to_float(m.group(1), lang)
        high_mult = _MULTIPLIERS[m.group(4).lower()] if is_range and m.group(4) else None
        low_mult = _MULTIPLIERS[m.group(2).lower()] if m.group(2) else high_mult or 1.0
        low *= low_mult
        high = _to_float(m.group(3), lang) * (high_mult or 1.0) if is_range else low
        rest = text[end:]
        unit = _unit(text[:start], rest)
        if unit and unit[1]:
            end += unit[1]
            rest = text[end:]
        obj = _object(rest, stop)
        if obj is None and not is_range:
            total = _TOTAL_OF.search(text[max(0, start - 60) : start])
            obj = total.group(1) if total else None
        qualifier = "range" if high > low else _QUALIFIER_OF.get(_qualifier(before), "exact")
        bare = not m.group(2) and qualifier == "exact" and re.fullmatch(r"\d{4}", m.group(1))
        if (obj and fold(obj) in _MONTHS) or (bare and 1800 <= low <= 2100 and not unit):
            continue  # a date or a year
        if unit is None and obj is None:
            continue
        if high < low:
            continue  # "10-5" is not a range we understand
        found.append(Quantity(start, end, low, high, qualifier, unit[0] if unit else None, obj))
    return found


def _qualifier(before: str) -> str:
    match = _QUALIFIER_RE.search(before)
    return match.group(1) if match else ""


def _unit(before: str, rest: str) -> tuple[str, int] | None:
    """(unit, characters it takes after the number); currency signs before the number take none."""
    sign = re.search(r"([€$£])\s*$", before)
    if sign:
        return _UNITS[sign.group(1)], 0
    match = _UNIT_RE.match(rest)
    if match:
        return _UNITS[match.group(1).lower()], match.end()
    return None


def _object(rest: str, stop: frozenset[str]) -> str | None:
    """The noun the number counts: the next word, skipping one linking word ("di", "of", "more")."""
    pos = 0
    for _ in range(2):
        if re.match(r"\s*[^\w\s]", rest[pos:]):
            return None  # punctuation ends the phrase
        match = _WORD_RE.match(rest, pos)
        if not match:
            return None
        word = match.group(1)
        if fold(word) not in stop and fold(word) not in {"more", "altri", "altre", "autres", "weitere", "mas"}:
            return word
        pos = match.end()
    return None


def extract_quantities(sentences: pl.DataFrame, languages: pl.DataFrame, entities: pl.DataFrame | None) -> pl.DataFrame:
    """Quantities of `sentences` (sentence_id, article_id, start, text), articles' `languages` (article_id,
    language); each row lists the surfaces of the `entities` (sentence_id, start, text) of its sentence."""
    lang_of = dict(languages.select("article_id", "language").iter_rows())
    by_sentence: dict[str, list[str]] = {}
    if entities is not None and entities.height:
        for sid, surface in entities.sort("sentence_id", "start").select("sentence_id", "text").iter_rows():
            names = by_sentence.setdefault(sid, [])
            if surface not in names:
                names.append(surface)
    rows = []
    for sid, aid, offset, text in sentences.select("sentence_id", "article_id", "start", "text").iter_rows():
        for q in parse_quantities(text, lang_of.get(aid)):
            start, end = offset + q.start, offset + q.end
            rows.append(
                {
                    "quantity_id": stable_id(aid, start, end),
                    "article_id": aid,
                    "sentence_id": sid,
                    "start": start,
                    "end": end,
                    "text": text[q.start : q.end],
                    "value": q.value,
                    "value_max": q.value_max,
                    "qualifier": q.qualifier,
                    "unit": q.unit,
                    "object": q.object,
                    "object_key": stem(q.object) if q.object else None,
                    "entities": by_sentence.get(sid, []),
                }
            )
    return conform(pl.DataFrame(rows, schema=QUANTITIES), QUANTITIES) if rows else empty(QUANTITIES)


@task(name="quantities", cache_policy=NO_CACHE)
def quantities_task(
    sentences: pl.DataFrame, languages: pl.DataFrame, entities: pl.DataFrame | None
) -> QuantitiesResult:
    """The quantities of a batch of articles (`languages`: article_id, language), every one of them marked read."""
    found = extract_quantities(sentences, languages, entities)
    get_run_logger().info("quantities: %d in %d sentences", found.height, sentences.height)
    return QuantitiesResult(found, languages["article_id"].to_list(), EXTRACTOR_VERSION)
