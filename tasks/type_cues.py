"""Entity types the text states around a name, which outrank the NER model's guess: a dateline ("TURIN — ...",
"PARIS (AFP) – ...") names a place, and a head noun of type_cues.yaml right before or after a name ("comitato «No
Diga Valmora»", "the civic list Valmora Bene Comune") says what kind of thing it is. Only models that speak the
CoNLL labels (PER, LOC, ORG, MISC) are relabelled: another label set has no "LOC" to give."""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from tasks.text.stems import fold

CUES_FILE = Path(__file__).with_name("type_cues.yaml")
CONLL_LABELS = frozenset({"PER", "LOC", "ORG", "MISC"})
MODEL = "model"  # label_from of a label the model gave

# A line that opens with a place in capitals, an optional agency in brackets and an optional date after a comma, then
# a dash: the news dateline.
_DATELINE = re.compile(
    r"\s*(?P<place>[^\W\d_]{2,}(?:[ '’.-][^\W\d_]+)*)(?:\s*\([^()\n]{1,40}\))?(?:,[^\n—–]{1,30})?\s+[—–-]\s"
)
_OPENING_QUOTES, _CLOSING_QUOTES = "«“„\"'‘‹", "»”“\"'’›"
_HEAD_AFTER = re.compile(r"[" + re.escape(_CLOSING_QUOTES) + r"]?\s(\w+)(?!\w)")


@dataclass(frozen=True)
class _Cues:
    label_of: dict[str, str]  # folded head word or phrase → type
    before: re.Pattern[str]  # a head phrase at the end of folded text, before an optional opening quote
    after: frozenset[str]  # head words that follow a name


@cache
def _cues() -> _Cues:
    data = yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))
    label_of = {fold(w): label for side in ("before", "after") for label, words in data[side].items() for w in words}
    before = sorted({fold(w) for words in data["before"].values() for w in words}, key=len, reverse=True)
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in before)
    quotes = re.escape(_OPENING_QUOTES)
    return _Cues(
        label_of=label_of,
        before=re.compile(rf"(?<!\w)({alternatives})\s*[{quotes}]?\s*$"),
        after=frozenset(fold(w) for words in data["after"].values() for w in words),
    )


def stated_type(sentence: str, start: int, end: int, label: str) -> tuple[str, str]:
    """(label, where it comes from) for the span sentence[start:end] the model labelled `label`: a stated type and
    "dateline" or "cue <word>", else the model's label and "model"."""
    if label not in CONLL_LABELS:
        return label, MODEL
    dateline = _DATELINE.match(sentence)
    if dateline and dateline.span("place") == (start, end) and dateline["place"].isupper():
        return "LOC", "dateline"
    before, after = sentence[:start], sentence[end:]
    quoted = bool(before.rstrip()) and before.rstrip()[-1] in _OPENING_QUOTES
    if quoted != (bool(after) and after[0] in _CLOSING_QUOTES):
        return label, MODEL  # a piece of a quoted name, or a name that runs on past the quotes
    phrase_ends = quoted or not after or not (after[0].isspace() and after.lstrip()[:1].isalnum())
    cue = (_head_before(before) if phrase_ends else None) or _head_after(after)
    return (_cues().label_of[cue], f"cue {cue}") if cue else (label, MODEL)


def _head_before(before: str) -> str | None:
    """The head noun (or phrase: "lista civica") right before a name, passing over an opening quote."""
    match = _cues().before.search(fold(before[-80:]))
    return re.sub(r"\s+", " ", match.group(1)) if match else None


def _head_after(after: str) -> str | None:
    """The head noun right after a name ("the Serpa river"), passing over a closing quote."""
    match = _HEAD_AFTER.match(after)
    word = fold(match.group(1)) if match and match.group(1).islower() else None
    return word if word in _cues().after else None
