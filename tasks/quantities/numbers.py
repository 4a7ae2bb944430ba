"""Numbers with what they count or measure, read from one sentence in its locale's conventions.

"1.000" and "10.000" are thousands in Italian, German, Spanish, French (which also writes "10 000"), "1,000" in
English; "1,5 milioni" and "1.5 million" are 1 500 000. A number counts when something is measured: an object noun
after it ("3.000 soldati", "1,000 troops"), a unit or currency ("25%", "2 milioni di euro"), or a counted noun before
it ("il totale delle truppe a 11.000", "vittime ... stimate intorno a 1.100"). Qualifiers before the number ("oltre",
"circa", "more than", ...) and ranges ("tra 10.000 e 12.000", "10-12") are kept, so a value reads as an interval.
Years, dates, times, codes ("F-16"), scores ("2-1") and phone numbers are not quantities; a number that cannot be
read safely (too many digits, mixed separators, a range whose ends are reversed) is reported as skipped with why.
"""

import re
from dataclasses import dataclass

from tasks.quantities.cues import cues
from tasks.text.stems import STOPWORDS, fold

MAX_DIGITS = 15  # beyond this a float no longer holds the number exactly
_SPACE = "[ \u00a0\u202f]"
_WORD = re.compile(r"\s*([^\W\d_]{2,})(?!['’\w])", re.UNICODE)  # not an elided "dell'"
WORDS = re.compile(r"[^\W\d_]+")
CLAUSE_END = re.compile(r"[,;:!?()\"“”]|[.](?:\s|$)")  # what ends a clause after a figure
_NUMERIC_TOKEN = re.compile(r"(?<![\w/:.,])(?<!\d['’])\d[\d.,]*\d(?![\w/:])")
_OF_TOTAL = re.compile(
    r"\s+(?:of|out of|di|su|sur|de|von|aus)\s+(?:the|i|gli|le|les|los|las|den|die|der)?\s*\d[\d.,'’ ]*\d?(?=\s)"
)


@dataclass(frozen=True)
class Number:
    start: int  # offsets into the sentence, end exclusive
    end: int
    value: float
    value_max: float
    qualifier: str  # exact | about | more_than | at_least | less_than | at_most | range
    unit: str | None
    object: str | None  # the counted noun as written, after the number or (object_before) before it
    object_before: bool = False


@dataclass(frozen=True)
class Skipped:
    start: int
    end: int
    reason: str  # too_many_digits | mixed_separators | range_reversed


def _number_pattern(dot_thousands: bool) -> str:
    swiss = r"\d{1,3}(?:['’]\d{3})+"  # "1'200" is written in Switzerland whatever the language
    if dot_thousands:
        grouped = rf"{swiss}|\d{{1,3}}(?:\.\d{{3}})+(?:,\d+)?|\d{{1,3}}(?:{_SPACE}\d{{3}})+(?:,\d+)?|\d+(?:,\d+)?"
    else:
        grouped = rf"{swiss}(?:\.\d+)?|\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?"
    return rf"(?<![\w/:.,+])(?<!\d['’])(?:{grouped})(?![\w/:]|[.,'’]\d)"


_PATTERNS: dict[bool, re.Pattern[str]] = {}


def _pattern(dot_thousands: bool) -> re.Pattern[str]:
    if dot_thousands not in _PATTERNS:
        number, c = _number_pattern(dot_thousands), cues()
        mult = rf"(?:\s*({c.multiplier})(?!\w))?"
        _PATTERNS[dot_thousands] = re.compile(rf"({number}){mult}(?:{c.range_join}({number}){mult})?", re.IGNORECASE)
    return _PATTERNS[dot_thousands]


def _to_float(token: str, dot_thousands: bool) -> float:
    token = re.sub(r"['’]", "", token)
    if dot_thousands:
        return float(re.sub(r"[.\u00a0\u202f ]", "", token).replace(",", "."))
    return float(token.replace(",", ""))


def read_numbers(text: str, language: str | None) -> tuple[list[Number], list[Skipped]]:
    """Every measured number of the sentence `text` read in the conventions of `language` (ISO 639-1; English
    when unknown), and the numbers skipped as unreadable."""
    c = cues()
    dots = (language or "en") in c.dot_thousands
    stop = STOPWORDS.get(language or "en", frozenset())
    found: list[Number] = []
    skipped = [Skipped(m.start(), m.end(), "mixed_separators") for m in _NUMERIC_TOKEN.finditer(text) if _mixed(m[0])]
    taken = [(s.start, s.end) for s in skipped]
    for m in _pattern(dots).finditer(text):
        start = m.start()
        if any(a <= start < b for a, b in taken) or c.label_before_at_end.search(
            fold(text[max(0, start - 30) : start])
        ):
            continue  # inside an unreadable number; a label ("Rückennummer 8")
        if start >= 1 and text[start - 1] in "-–" and (start < 2 or text[start - 2].isalnum()):
            continue  # a code such as "F-16", the second half of "2-1"
        if re.search(r"\d[ \u00a0]$", text[max(0, start - 2) : start]):
            continue  # a group of a phone number or code ("06 1234 5678") that is no one number
        if sum(ch.isdigit() for ch in m.group(1)) > MAX_DIGITS or (
            m.group(3) and sum(ch.isdigit() for ch in m.group(3)) > MAX_DIGITS
        ):
            skipped.append(Skipped(start, m.end(), "too_many_digits"))
            continue
        before = fold(text[max(0, start - 40) : start]).replace("’", "'")
        is_range = m.group(3) is not None and bool(
            c.range_start_at_end.search(before) or re.match(r"\d[\d.,]*\s*[-–]", m.group(0))
        )
        end = m.end() if is_range else m.end(2) if m.group(2) else m.end(1)
        high_mult = c.multiplier_of[fold(m.group(4))] if is_range and m.group(4) else None
        low_mult = c.multiplier_of[fold(m.group(2))] if m.group(2) else high_mult or 1.0
        low = _to_float(m.group(1), dots) * low_mult
        high = _to_float(m.group(3), dots) * (high_mult or 1.0) if is_range else low
        unit, unit_len = _unit(text[:start], text[end:])
        end += unit_len
        if unit is None and m.group(2) and found and c.of_which_at_end.search(before):
            unit = found[-1].unit  # "240 milioni di euro, di cui 95 milioni"
        obj = _object(text[end:], stop) or _object_of_total(text[end:], stop)
        before_obj = None if obj or unit or is_range else _object_before(text[:start])
        qualifier = "range" if high != low else c.qualifier_of.get(_qualifier(before), "exact")
        bare = not m.group(2) and qualifier == "exact" and re.fullmatch(r"\d{4}", m.group(1))
        if (obj and fold(obj) in c.month_of) or (bare and 1800 <= low <= 2100 and not unit):
            continue  # a date or a year
        if re.match(r"\s*(?:[:h.]\d\d\b|[/.]\d)", text[end:]) or re.match(r"(?:[/.]|-\d+-)\d", text[m.end(1) :]):
            continue  # a time (10:30, 10h30) or a date (21/11, 21.11.2026)
        if unit is None and obj is None and before_obj is None:
            continue
        if high < low:
            skipped.append(Skipped(start, end, "range_reversed"))
            continue
        found.append(Number(start, end, low, high, qualifier, unit, obj or before_obj, before_obj is not None))
    found += _number_words(text, stop, [(n.start, n.end) for n in found])
    return sorted(found, key=lambda n: n.start), sorted(skipped, key=lambda s: s.start)


def _number_words(text: str, stop: frozenset[str], taken: list[tuple[int, int]]) -> list[Number]:
    """Numbers written as words, where a counted noun of the vocabulary follows ("almeno nove persone", "circa
    duemila persone")."""
    c = cues()
    folded = fold(text)
    if len(folded) != len(text):
        return []  # offsets would not carry over; rare (ligatures, "ß")
    found = []
    for m in c.number_word.finditer(folded):
        if any(a <= m.start() < b for a, b in taken):
            continue
        obj = _object(text[m.end() :], stop)
        if obj is None or fold(obj) not in c.thing_of:
            continue
        value = c.number_word_of[m[1]] * (c.multiplier_of[m[2]] if m[2] else 1)
        qualifier = c.qualifier_of.get(_qualifier(folded[max(0, m.start() - 40) : m.start()]), "exact")
        found.append(Number(m.start(), m.end(), value, value, qualifier, None, obj))
    return found


def _mixed(token: str) -> bool:
    """Both separators, and not in the order of either convention ("1.000,000.5", "1,000.000,5")."""
    if "." not in token or "," not in token:
        return False
    return not (re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d+", token) or re.fullmatch(r"\d{1,3}(?:,\d{3})+\.\d+", token))


def _qualifier(before: str) -> str:
    match = cues().qualifier_at_end.search(before)
    return match.group(0).strip() if match else ""


def _unit(before: str, rest: str) -> tuple[str | None, int]:
    """(unit, characters it takes after the number); currency signs before the number take none."""
    c = cues()
    sign = re.search(r"([€$£])\s*$", before)
    if sign:
        return c.unit_of[sign.group(1)], 0
    match = c.unit_after.match(fold(rest[:40]))
    if match:
        return c.unit_of[match.group(1)], match.end()
    return None, 0


def _object(rest: str, stop: frozenset[str]) -> str | None:
    """The noun the number counts: the next word, skipping one linking word ("di", "of", "more", "tra")."""
    pos = 0
    for _ in range(2):
        if re.match(r"\s*[^\w\s]", rest[pos:]):
            return None  # punctuation ends the phrase
        match = _WORD.match(rest, pos)
        if not match:
            return None
        word = match.group(1)
        if fold(word) not in stop and fold(word) not in cues().linking_words:
            return word if len(word) > 2 or fold(word) in cues().thing_of else None
        pos = match.end()
    return None


def _object_of_total(rest: str, stop: frozenset[str]) -> str | None:
    """ "7,469 of the 15,212 registered voters", "10 of the 16 seats": the noun after the total."""
    match = _OF_TOTAL.match(rest)
    return _object(rest[match.end() :], stop) if match else None


def _object_before(before: str) -> str | None:
    """A counted noun of the vocabulary before the number in the same clause, with no other number between
    ("il totale delle truppe inviate a circa 11.000", "vittime nordcoreane, stimate intorno a 1.100")."""
    clause = re.split(r"[.;:!?()\"“”]|\d", before)[-1]
    words = WORDS.findall(clause)[-12:]
    for word in reversed(words):
        if fold(word) in cues().thing_of:
            return word
    return None
