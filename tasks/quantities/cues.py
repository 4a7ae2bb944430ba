"""The cues of cues.yaml, loaded once and compiled: words are matched folded (lower case, no accents), whole words."""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from tasks.text.stems import fold

CUES_FILE = Path(__file__).with_name("cues.yaml")


def alternation(words: list[str]) -> str:
    """A regular expression for any of `words` in folded text, longest first, a space matching any spaces."""
    alternatives = sorted({fold(str(w)) for w in words}, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in alternatives)


def phrases(words: list[str]) -> re.Pattern[str]:
    """Any of `words` as a whole phrase of folded text, longest first."""
    return re.compile(r"(?<![\w'’])(?:" + alternation(words) + r")(?!\w)")


def _inverse(groups: dict) -> dict[str, str]:
    return {fold(str(word)): str(name) for name, words in groups.items() for word in words}


@dataclass(frozen=True)
class Cues:
    dot_thousands: frozenset[str]
    qualifier_of: dict[str, str]
    qualifier_at_end: re.Pattern[str]
    range_start_at_end: re.Pattern[str]
    range_join: str
    linking_words: frozenset[str]
    multiplier_of: dict[str, float]
    multiplier: str
    unit_of: dict[str, str]
    number_word_of: dict[str, float]
    number_word: re.Pattern[str]
    unit_after: re.Pattern[str]
    thing_of: dict[str, str]
    unit_things: dict[str, str]
    of_which_at_end: re.Pattern[str]
    label_before_at_end: re.Pattern[str]
    casualty_of: dict[str, str]
    casualty: re.Pattern[str]
    person_things: frozenset[str]
    place_words: frozenset[str]
    in_at_end: re.Pattern[str]
    source: re.Pattern[str]
    increment_before: re.Pattern[str]
    increment_after: re.Pattern[str]
    total_before: re.Pattern[str]
    total_after: re.Pattern[str]
    rate_before: re.Pattern[str]
    rate_after: re.Pattern[str]
    forecast: re.Pattern[str]
    estimated: re.Pattern[str]
    ahead_at_end: re.Pattern[str]
    year_lead: frozenset[str]
    ordinal_suffixes: frozenset[str]
    month_of: dict[str, int]
    month_part_of: dict[str, str]
    month_part_at_end: re.Pattern[str]


@cache
def cues() -> Cues:
    data = yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))
    qualifier_of = _inverse(data["qualifiers"])
    multiplier_of = {fold(w): float(factor) for factor, words in data["multipliers"].items() for w in words}
    unit_of = _inverse(data["units"])
    roles = data["roles"]
    month_part_of = _inverse(data["month_parts"])
    number_words = [w for words in data["number_words"].values() for w in words]
    return Cues(
        dot_thousands=frozenset(data["dot_thousands"]),
        qualifier_of=qualifier_of,
        qualifier_at_end=re.compile(phrases(list(qualifier_of)).pattern + r"\s*$"),
        range_start_at_end=re.compile(phrases(data["range_start"]).pattern + r"\s*$"),
        range_join=r"\s*(?:-|–|—|" + "|".join(map(re.escape, data["range_join"])) + r")\s*",
        linking_words=frozenset(fold(str(w)) for w in data["linking_words"]),
        multiplier_of=multiplier_of,
        multiplier="|".join(re.escape(w) for w in sorted(multiplier_of, key=len, reverse=True)),
        unit_of=unit_of,
        number_word_of={fold(w): float(v) for v, words in data["number_words"].items() for w in words},
        # "nove", and with a multiplier written apart or joined: "two thousand", "duemila" (group 2)
        number_word=re.compile(
            rf"(?<![\w'’])({alternation(number_words)})(?:\s?({alternation(list(multiplier_of))}))?(?!\w)"
        ),
        unit_after=re.compile(
            r"\s*(?:(?:di|de|d['’]|of|des|dei|degli|delle|della|del)\s*)?("
            + "|".join(re.escape(u) for u in sorted(unit_of, key=len, reverse=True))
            + r")(?!\w)"
        ),
        thing_of=_inverse(data["things"]),
        unit_things=dict(data["unit_things"]),
        of_which_at_end=re.compile(phrases(data["of_which"]).pattern + r"\s*$"),
        label_before_at_end=re.compile(phrases(data["label_before"]).pattern + r"[.:]?\s*$"),
        casualty_of=_inverse(data["casualty_words"]),
        casualty=phrases([w for words in data["casualty_words"].values() for w in words]),
        person_things=frozenset(data["person_things"]),
        place_words=frozenset(fold(w) for w in data["place_words"]),
        in_at_end=re.compile(phrases(data["in_words"]).pattern + r"(?:\s+\w+)?\s*$"),
        source=phrases(data["source"]),
        increment_before=phrases(roles["increment_before"]),
        increment_after=phrases(roles["increment_after"]),
        total_before=phrases(roles["total_before"]),
        total_after=phrases(roles["total_after"]),
        rate_before=phrases(roles["rate_before"]),
        rate_after=phrases(roles["rate_after"]),
        forecast=phrases(roles["forecast"]),
        estimated=phrases(roles["estimated"]),
        ahead_at_end=re.compile(phrases(data["ahead"]).pattern + r"\s*(?:il|le|el|the|der|dem|del)?\s*$"),
        year_lead=frozenset(fold(str(w)) for w in data["year_lead"]),
        ordinal_suffixes=frozenset(fold(str(w)) for w in data["ordinal_suffixes"]),
        month_of={fold(w): int(month) for month, words in data["months"].items() for w in words},
        month_part_of=month_part_of,
        month_part_at_end=re.compile(phrases(list(month_part_of)).pattern + r"\s*(?:di|de|of|d['’])?\s*$"),
    )
