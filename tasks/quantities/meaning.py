"""What a number of a sentence counts, in what role, and the dates it refers to.

thing: the counted noun normalised across languages (cues.yaml `things`: "soldati", "troops" → soldiers), a noun of
persons turned into the casualty its clause reports ("300 soldati ... uccisi" → killed, "4.000 tra morti e feriti" →
casualties), else the noun's stem ("ore" → "ore").
role: increment | total | rate | forecast (cues.yaml `roles`); estimated: the text calls it an estimate.
Dates: the date phrase of the sentence nearest the number ("a metà gennaio", "nell'ottobre 2024", "tra gennaio e
febbraio", "il 26 aprile 2025"), as a window of days; a month without a year is the latest such month up to the
article's day (the next one for a forecast). Without one the figure refers to the article's day.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date

from tasks.quantities.cues import cues
from tasks.quantities.numbers import CLAUSE_END, WORDS, Number
from tasks.text.stems import fold, stem

_TOKEN = re.compile(r"\d{1,4}|[^\W\d_]+", re.UNICODE)  # "nell'ottobre" → "nell", "ottobre"
_PART_DAYS = {"early": (1, 10), "mid": (11, 20), "late": (21, 31)}


@dataclass(frozen=True)
class Meaning:
    thing: str | None
    role: str  # increment | total | rate | forecast
    estimated: bool
    refers_from: date | None
    refers_to: date | None
    date_from: str  # text | article


@dataclass(frozen=True)
class _DatePhrase:
    start: int
    end: int
    first: date
    last: date


def _thing(number: Number, sentence: str, clause_after: str) -> str | None:
    c = cues()
    if number.unit in c.unit_things:
        return c.unit_things[number.unit]
    if number.unit == "%":  # "46,8% delle preferenze" counts votes; "2.5% pay rise" is a per cent
        words = [fold(w) for w in WORDS.findall(clause_after)[:3]]
        return next((c.thing_of[w] for w in words if w in c.thing_of), "%")
    if number.object is None:
        return None
    thing = c.thing_of.get(fold(number.object))
    if thing is None and not number.object_before:  # "80 permanent dockworkers", "1,200 refrigerated containers"
        tail = sentence[number.end :]
        rest = tail[tail.find(number.object) + len(number.object) :]
        thing = next((c.thing_of[fold(w)] for w in WORDS.findall(rest)[:2] if fold(w) in c.thing_of), None)
    if thing is None:
        return stem(number.object)
    if thing in ("killed", "wounded"):
        near = {c.casualty_of[m[0]] for m in c.casualty.finditer(fold(clause_after[:40]))}
        return "casualties" if near >= {"killed", "wounded"} else thing
    if thing in c.person_things and not number.object_before:
        said = [c.casualty_of[m[0]] for m in c.casualty.finditer(fold(clause_after))]
        said_before = [
            c.casualty_of[m[0]] for m in c.casualty.finditer(fold(sentence[max(0, number.start - 20) : number.start]))
        ]
        said = said or said_before
        if said:
            return "casualties" if set(said) >= {"killed", "wounded"} else said[0]
    return thing


def read_meaning(
    number: Number, sentence: str, previous_end: int, next_start: int, article_day: date | None
) -> Meaning:
    """The meaning of `number` in `sentence`; its clause runs from the end of the previous number (or the sentence
    start) to the start of the next one (or the sentence end)."""
    c = cues()
    before = fold(sentence[previous_end : number.start])
    after = sentence[number.end : next_start]
    after_folded = fold(after)
    thing = _thing(number, sentence, after)
    if (
        number.unit == "%"
        or c.rate_after.search(" ".join(after_folded.split()[:6]))
        or c.rate_before.search(" ".join(before.split()[-4:]))
    ):
        role = "rate"
    elif c.forecast.search(fold(sentence[: number.start])):
        role = "forecast"
    elif c.total_after.search(after_folded) and not c.total_before.search(before):
        role = "increment"  # "3.000 soldati, portando il totale a 11.000"
    elif c.total_before.search(before):
        role = "total"
    elif c.increment_after.match(after_folded.strip()) or (
        previous_end == 0 and _increment_before(re.split(r"[:;\"“”«»]", before)[-1])
    ):
        role = "increment"  # after an earlier figure "e altri 2.700" lists another group, not an addition
    else:
        role = "total"
    estimated = bool(c.estimated.search(fold(sentence[: number.start])) or c.estimated.search(after_folded[:30]))
    window = _nearest(_date_phrases(sentence, article_day, role == "forecast"), number, sentence, next_start)
    if window is not None:
        return Meaning(thing, role, estimated, window.first, window.last, "text")
    return Meaning(thing, role, estimated, article_day, article_day, "article")


def _increment_before(before: str) -> bool:
    """A one-word cue ("altri", "another") right before the number, or a phrase ("nuovo contingente") in the
    clause; "a new report says 10,000" is no increment."""
    c = cues()
    if c.increment_before.search(" ".join(before.split()[-2:])):
        return True
    return any(" " in m[0] for m in c.increment_before.finditer(before))


def _nearest(phrases: list[_DatePhrase], number: Number, sentence: str, next_start: int) -> _DatePhrase | None:
    """The date phrase of the number's own clause after it ("4,2 % à partir du 1er janvier"), else the nearest one
    before it in the sentence, not across a colon or semicolon ("A metà gennaio, ... circa 300 soldati")."""
    clause_end = number.end + len(CLAUSE_END.split(sentence[number.end : next_start])[0])
    after = [p for p in phrases if number.end <= p.start and p.end <= clause_end]
    if after:
        return after[0]
    before = [p for p in phrases if p.end <= number.start and not re.search(r"[:;]", sentence[p.end : number.start])]
    return before[-1] if before else None


def _date_phrases(sentence: str, article_day: date | None, ahead: bool) -> list[_DatePhrase]:
    """Day-month-year, month-year, month and year phrases of the sentence, joined when one range spans two
    ("tra gennaio e febbraio")."""
    c = cues()
    tokens = [(m.start(), m.end(), fold(m[0])) for m in _TOKEN.finditer(sentence)]
    found: list[_DatePhrase] = []
    i = 0
    while i < len(tokens):
        start, end, word = tokens[i]
        month = c.month_of.get(word) if len(word) > 3 or word in ("mai", "may") else None
        if month is not None:
            day = None
            k = i - 2 if i > 1 and tokens[i - 1][2] in c.ordinal_suffixes else i - 1  # "1er janvier", "1st May"
            if k >= 0 and tokens[k][2].isdigit() and 1 <= int(tokens[k][2]) <= 31:
                day, start = int(tokens[k][2]), tokens[k][0]
            year = None
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt and nxt[2].isdigit() and len(nxt[2]) == 4 and nxt[0] - end <= 2:
                year, end = int(nxt[2]), nxt[1]
                i += 1
            part = c.month_part_at_end.search(fold(sentence[max(0, start - 30) : start]))
            later = ahead or bool(c.ahead_at_end.search(fold(sentence[max(0, start - 30) : start])))
            part_of = c.month_part_of.get(part[0].split()[0] if part else "")
            phrase = _month_window(month, year, day, part_of, article_day, later)
            if phrase is not None:
                found.append(_DatePhrase(start, end, *phrase))
        elif (
            word.isdigit()
            and len(word) == 4
            and 1900 <= int(word) <= 2100
            and i > 0
            and tokens[i - 1][2] in c.year_lead
        ):
            year = int(word)
            found.append(_DatePhrase(start, end, date(year, 1, 1), date(year, 12, 31)))
        i += 1
    joined: list[_DatePhrase] = []
    for phrase in found:
        if joined and re.fullmatch(c.range_join, fold(sentence[joined[-1].end : phrase.start])):
            joined[-1] = _DatePhrase(joined[-1].start, phrase.end, joined[-1].first, phrase.last)
        else:
            joined.append(phrase)
    return joined


def _month_window(
    month: int, year: int | None, day: int | None, part: str | None, article_day: date | None, ahead: bool
) -> tuple[date, date] | None:
    if year is None:
        if article_day is None:
            return None
        year = article_day.year
        if not ahead and month > article_day.month:
            year -= 1
        elif ahead and month < article_day.month:
            year += 1
    last_day = calendar.monthrange(year, month)[1]
    if day is not None:
        if day > last_day:
            return None
        return date(year, month, day), date(year, month, day)
    first, last = _PART_DAYS.get(part or "", (1, last_day))
    return date(year, month, first), date(year, month, min(last, last_day))
