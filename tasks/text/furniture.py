"""Line-level boilerplate removal for article text that has already lost its HTML.

Every non-blank line first gets a class from its own features, in the manner of jusText (Pomikálek 2011):
`good` (long, stop-word rich prose), `near_good`, `short`, or `bad` when a furniture signal fires. Then short and
near-good lines take the class of their neighbours, with the document edges counting as bad: a subheading between
two paragraphs is kept, a short line before the first or after the last paragraph ("Published", a site tag, a
credit) is not. The furniture signals are structural, not phrases of any one site:

- `duplicated_headline`: the title again, doubled, or followed by a site name ("Title - site.tv").
- `repeated_in_document`: a short line occurring more than once ("Read more" under every teaser, teaser titles).
- `repeated_in_source`: a short line seen in several documents of the same site or source (footers, menus).
- `teaser`: other articles' teasers: a run of "Headline - Snippet..." lines, or truncated snippets ending in an
  ellipsis in a listing.
- `promo`: "Label: Headline" lines whose label recurs in the document or is a known call to action.
- `navigation`: menus and breadcrumbs ("Home | News | Sport", "News › Local"); `dateline`: a short line with a date
  or time and no sentence ("Updated 12.03.2025, 14:20").
- `furniture_cue`: short lines with a sharing/cookie/subscription/navigation cue in one of the supported languages.
- `no_prose`: lines made of punctuation, symbols and numbers; `site_tag`: a bare domain, URL, e-mail or handle.
- `context`: short or near-good lines whose neighbours are furniture or the document edge, and lines that are not
  sentences after the article's last sentence (links, prompts).

The title of plain text is the longest headline-shaped line among the opening ones before the first paragraph.
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import justext

from stancewire.ids import sha256_hex

GOOD_MIN_CHARS = 100
NEAR_GOOD_MIN_CHARS = 50
GOOD_MIN_STOPWORDS = 0.25
NEAR_GOOD_MIN_STOPWORDS = 0.2
REPEATABLE_MAX_WORDS = 15  # longer lines repeated in a document are more likely quoted text than furniture
SOURCE_REPEAT_MIN_DOCS = 3  # a line in this many documents of one source is the source's furniture...
SOURCE_REPEAT_MAX_WORDS = 30  # ...unless it is longer than a newsletter or copyright notice
HEADLINE_MAX_CHARS = 200
HEADLINE_MAX_WORDS = 30
TITLE_SEARCH_LINES = 5
TITLE_MIN_WORDS = 4
TITLE_MAX_GAP_LINES = 3
CUE_MAX_WORDS = 12
TEASER_MIN_HEADLINE_WORDS = 4
TEASER_MIN_SNIPPET_WORDS = 8
NAV_MIN_ITEMS = 3
NAV_MAX_ITEM_WORDS = 3
DATELINE_MAX_WORDS = 20

_STOPLIST_LANGUAGES = ("English", "Italian", "French", "German", "Spanish", "Portuguese", "Dutch")
# Calls to action and page chrome, in the supported languages. One signal among many, limited to short lines.
_CUES = (
    "read more", "read also", "see also", "related articles", "related stories", "most read", "more stories",
    "share this", "share on", "follow us", "sign up", "subscribe", "newsletter", "cookie", "privacy policy",
    "all rights reserved", "advertisement", "sponsored", "click here", "comments", "log in",
    "leggi anche", "leggi di più", "leggi tutto", "potrebbe interessarti", "condividi su", "seguici", "iscriviti",
    "abbonati", "pubblicità", "riproduzione riservata", "tutti i diritti riservati", "articoli correlati",
    "lire aussi", "lire la suite", "à lire aussi", "partager sur", "suivez-nous", "abonnez-vous", "publicité",
    "tous droits réservés", "lesen sie auch", "mehr zum thema", "weiterlesen", "artikel teilen", "folgen sie uns",
    "abonnieren", "anzeige", "werbung", "alle rechte vorbehalten", "lee también", "leer más", "compartir en",
    "síguenos", "suscríbete", "publicidad", "todos los derechos reservados", "noticias relacionadas", "related",
)  # fmt: skip
# Labels that introduce furniture in "Label: ..." lines: credits, tags, cross-references.
_LABELS = frozenset(
    """
    photo photos foto fotos bild bilder credit credits crédit crédits source sources fonte fonti fuente fuentes
    quelle quellen tags tag etiquetas topics themen argomenti thèmes mots-clés schlagworte keywords related
    correlati
    """.split()
)
_CUE = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(c) for c in _CUES) + r")(?!\w)", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_LETTER = re.compile(r"[^\W\d_]")
_SITE_TAG = re.compile(
    r"^(?:(?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)+(?:/\S*)?|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|@\w+)$", re.IGNORECASE
)
_ELLIPSIS_END = re.compile(r"(?:\.{3}|…)\s*$")
_OMISSION_END = re.compile(r"[(\[](?:\.{3}|…)[)\]]\s*$")
_TEASER = re.compile(r"^(?P<head>[^.!?]{10,}?) [-–—] (?P<snippet>[\"'«(]?[^\W\d_].*)$")
_PROMO = re.compile(r"^(?P<label>[^\W\d_][^:.!?]{0,40}?)\s?:\s+(?P<rest>\S.*)$")
_NAV_SEPARATORS = re.compile(r"\s+[|>»›·•/]\s+|\s*\|\s*")
_NUMERIC_DATE = re.compile(r"(?<!\d)\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?!\d)|(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
_TIME = re.compile(r"(?<!\d)(?:[01]?\d|2[0-3])(?::|h)[0-5]\d(?!\d)")
_MONTHS = (
    "january february march april may june july august september october november december "
    "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre "
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre "
    "januar februar märz april mai juni juli august september oktober november dezember "
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
)
_WORDED_DATE = re.compile(
    r"(?<!\w)\d{1,2}\.?\s+(?:de\s+)?(?:" + "|".join(sorted(set(_MONTHS.split()))) + r")(?:\s+(?:de\s+)?\d{4})?(?!\w)",
    re.IGNORECASE,
)
_TERMINAL = (".", "!", "?", ";", ":", ",", "…")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = (".", "!", "?", "…", '"', "»", "“", ")")


@dataclass(frozen=True)
class Line:
    no: int  # 0-based line number in the text given
    start: int  # char offsets into that text, end exclusive
    end: int
    text: str


@dataclass(frozen=True)
class Decision:
    line: Line
    kind: str  # "title" | "body" | "furniture"
    reason: str | None  # why a furniture line is furniture


@cache
def stopwords() -> frozenset[str]:
    words: set[str] = set()
    for language in _STOPLIST_LANGUAGES:
        words |= {w.lower() for w in justext.get_stoplist(language) if w.isalpha()}
    return frozenset(words)


def line_key(text: str) -> str:
    """Comparison key of a line: lower case, digits as 0, words only (dates and counters do not make lines unique)."""
    return " ".join(_WORD.findall(re.sub(r"\d", "0", text.lower())))


def split_lines(text: str) -> list[Line]:
    lines, start = [], 0
    for no, raw in enumerate(text.split("\n")):
        end = start + len(raw)
        if raw.strip():
            lstrip = len(raw) - len(raw.lstrip())
            lines.append(Line(no, start + lstrip, start + len(raw.rstrip()), raw.strip()))
        start = end + 1
    return lines


def line_hash(key: str) -> str:
    return sha256_hex(key)


def source_line_hashes(text: str) -> set[str]:
    """The hashed keys of the lines of a document that count towards repetition across its source."""
    return {line_hash(key) for line in split_lines(text) if (key := line_key(line.text)) and _source_repeatable(key)}


def _short(key: str) -> bool:
    return len(key.split()) <= REPEATABLE_MAX_WORDS


def _source_repeatable(key: str) -> bool:
    return len(key.split()) <= SOURCE_REPEAT_MAX_WORDS


def is_headline(text: str) -> bool:
    return (
        len(text) <= HEADLINE_MAX_CHARS
        and len(text.split()) <= HEADLINE_MAX_WORDS
        and not text.endswith(_TERMINAL)
        and bool(_LETTER.search(text))
    )


class _Features:
    def __init__(self, lines: list[Line], title: str | None, source_repeated: frozenset[str]) -> None:
        self.lines = lines
        self.keys = [line_key(line.text) for line in lines]
        self.counts = Counter(self.keys)
        self.title_key = line_key(title) if title else ""
        self.source_repeated = source_repeated
        labels = [m.group("label").lower() for line in lines if (m := _PROMO.match(line.text))]
        self.repeated_labels = {label for label, n in Counter(labels).items() if n > 1}
        self.truncated = [bool(_ELLIPSIS_END.search(x.text)) and not _OMISSION_END.search(x.text) for x in lines]
        self.teaser_shaped = [_teaser_shaped(line.text) for line in lines]
        self.short_keys = {k for k in self.keys if _short(k) and len(k.split()) >= 3}

    def signal(self, i: int) -> str | None:
        """The furniture signal of line i, if any."""
        text, key = self.lines[i].text, self.keys[i]
        if not key or len(_LETTER_OR_DIGIT.findall(text)) < 0.5 * len(text.replace(" ", "")):
            return "no_prose"
        if _SITE_TAG.match(text):
            return "site_tag"
        if self.title_key and _is_headline_copy(key, self.title_key):
            return "duplicated_headline"
        if self.counts[key] > 1 and (_short(key) or self.keys.index(key) != i):
            return "repeated_in_document"
        if _source_repeatable(key) and line_hash(key) in self.source_repeated:
            return "repeated_in_source"
        if _is_navigation(text):
            return "navigation"
        if _is_dateline(text, key):
            return "dateline"
        if self._teaser(i):
            return "teaser"
        if self._promo(text):
            return "promo"
        if len(key.split()) <= CUE_MAX_WORDS and _CUE.search(text):
            return "furniture_cue"
        return None

    def _teaser(self, i: int) -> bool:
        n = len(self.lines)
        if self.teaser_shaped[i]:
            run = (i > 0 and self.teaser_shaped[i - 1]) or (i + 1 < n and self.teaser_shaped[i + 1])
            return run or i == n - 1
        if not self.truncated[i] or sum(self.truncated) < 2:
            return False
        key = self.keys[i]
        if i > 0 and (self.truncated[i - 1] or is_headline(self.lines[i - 1].text)):
            return True
        words = key.split()
        opens_with_a_line = any(key.startswith(k + " ") for k in self.short_keys)
        repeats_own_opening = len(words) >= 6 and " ".join(words[:3]) in " ".join(words[3:])
        return opens_with_a_line or repeats_own_opening

    def _promo(self, text: str) -> bool:
        match = _PROMO.match(text)
        if not match or len(text.split()) > 25 or not match.group("rest")[:1].isupper():
            return False
        label = match.group("label").lower()
        return label in self.repeated_labels or bool(_CUE.fullmatch(label)) or label in _LABELS


def _is_navigation(text: str) -> bool:
    """A menu or breadcrumb: three or more items of at most three words between separators (| > · • /)."""
    items = [item for item in _NAV_SEPARATORS.split(text) if item.strip()]
    return len(items) >= NAV_MIN_ITEMS and all(len(item.split()) <= NAV_MAX_ITEM_WORDS for item in items)


def _is_dateline(text: str, key: str) -> bool:
    """A short line that holds a date or time and no sentence: a timestamp, "Published ... Updated ..."."""
    if len(key.split()) > DATELINE_MAX_WORDS or text.endswith("."):
        return False
    return bool(_NUMERIC_DATE.search(text) or _TIME.search(text) or _WORDED_DATE.search(text))


def _teaser_shaped(text: str) -> bool:
    match = _TEASER.match(text)
    if not match:
        return False
    head, snippet = match.group("head"), match.group("snippet")
    return (
        TEASER_MIN_HEADLINE_WORDS <= len(head.split()) <= HEADLINE_MAX_WORDS
        and len(snippet.split()) >= TEASER_MIN_SNIPPET_WORDS
        and snippet.lstrip("\"'«(")[:1].isupper()
    )


def _is_headline_copy(key: str, title_key: str) -> bool:
    """The title itself, the title twice, or the title with a short site name or section before or after it."""
    if key == title_key:
        return True
    if title_key not in key:
        return False
    rest = key.replace(title_key, " ").split()
    return len(rest) <= 4


def _base_class(line: Line) -> str:
    words = _WORD.findall(line.text.lower())
    if not words:
        return "short"
    stop = sum(w in stopwords() for w in words) / len(words)
    if len(line.text) >= GOOD_MIN_CHARS and stop >= GOOD_MIN_STOPWORDS:
        return "good"
    if len(line.text) >= NEAR_GOOD_MIN_CHARS and stop >= NEAR_GOOD_MIN_STOPWORDS:
        return "near_good"
    return "short"


def classify_lines(
    text: str,
    *,
    title: str | None = None,
    find_title: bool = False,
    source_repeated: Iterable[str] = (),
) -> list[Decision]:
    """A decision for every non-blank line of `text`.

    `title` is the known headline (HTML/JSON metadata); with `find_title` the first line becomes the title when it
    reads as a headline followed by prose. `source_repeated` holds the `line_hash`es of the line keys that recur across
    the document's source.
    """
    lines = split_lines(text)
    if not lines:
        return []
    classes = [_base_class(line) for line in lines]
    features = _Features(lines, title, frozenset(source_repeated))
    reasons = [features.signal(i) for i in range(len(lines))]
    title_idx = _find_title(lines, classes, reasons) if find_title and title is None else None
    if title_idx is not None:
        title_key = features.keys[title_idx]
        for i, key in enumerate(features.keys):
            if i != title_idx and reasons[i] is None and _is_headline_copy(key, title_key):
                reasons[i] = "duplicated_headline"
    for i, reason in enumerate(reasons):
        if reason is not None:
            classes[i] = "bad"
    if title_idx is not None:
        classes[title_idx] = "title"
    if "good" in classes:  # with no paragraph to anchor on, context would remove everything
        _revise(classes, reasons, [line.text for line in lines])
    decisions = []
    for i, line in enumerate(lines):
        kind = "title" if i == title_idx else "furniture" if reasons[i] else "body"
        decisions.append(Decision(line, kind, reasons[i] if kind == "furniture" else None))
    return decisions


def _find_title(lines: list[Line], classes: list[str], signals: list[str | None]) -> int | None:
    """The headline among the opening lines: the longest headline-shaped line before the first paragraph (a
    masthead, a byline or a date may stand above or below it)."""
    window = min(TITLE_SEARCH_LINES + TITLE_MAX_GAP_LINES, len(lines))

    def prose(j: int) -> bool:
        text = lines[j].text
        return text.endswith(_TERMINAL) or (classes[j] in ("good", "near_good") and not is_headline(text))

    first_prose = next((j for j in range(window) if prose(j)), None)
    if first_prose is None:
        return None
    candidates = [
        i
        for i in range(min(first_prose, TITLE_SEARCH_LINES))
        if signals[i] is None and is_headline(lines[i].text) and len(lines[i].text.split()) >= TITLE_MIN_WORDS
    ]
    return max(candidates, key=lambda i: len(lines[i].text.split()), default=None)


def _revise(classes: list[str], reasons: list[str | None], texts: list[str]) -> None:
    """jusText's context pass: short lines follow their nearest good/bad neighbours, near-good ones unless both
    neighbours are bad (a standfirst, a near-good sentence before the first paragraph, stays). The title and the
    document edges count as bad. Needs at least one good line."""

    def neighbour(i: int, step: int, skip_near_good: bool) -> str:
        i += step
        while 0 <= i < len(classes):
            cls = classes[i]
            if cls in ("good", "bad"):
                return cls
            if cls == "title":
                return "bad"
            if cls == "near_good" and not skip_near_good:
                return cls
            i += step
        return "bad"

    revised = list(classes)
    for i, cls in enumerate(classes):
        if cls != "short":
            continue
        prev, nxt = neighbour(i, -1, True), neighbour(i, 1, True)
        if prev == nxt:
            revised[i] = prev
        elif (prev == "bad" and neighbour(i, -1, False) == "near_good") or (
            nxt == "bad" and neighbour(i, 1, False) == "near_good"
        ):
            revised[i] = "good"
        else:
            revised[i] = "bad"
    goods = [i for i, cls in enumerate(classes) if cls == "good"]
    for i, cls in enumerate(classes):
        if cls == "near_good":
            both_bad = neighbour(i, -1, True) == "bad" and neighbour(i, 1, True) == "bad"
            standfirst = i < goods[0] and texts[i].endswith(_SENTENCE_END)
            revised[i] = "bad" if both_bad and not standfirst else "good"
    # An article ends with a sentence: lines without one after its last sentence are links or prompts.
    last = max(i for i, cls in enumerate(revised) if cls == "good" and (i in goods or texts[i].endswith(_SENTENCE_END)))
    for i in range(last + 1, len(classes)):
        if revised[i] == "good" and not texts[i].endswith(_SENTENCE_END):
            revised[i] = "bad"
    for i, cls in enumerate(revised):
        if cls == "bad" and reasons[i] is None:
            reasons[i] = "context"
    classes[:] = revised


def body_text(text: str, decisions: list[Decision]) -> str:
    """The body lines of `text`, with paragraph breaks (blank lines) kept where furniture did not stand."""
    kept = [d.line for d in decisions if d.kind == "body"]
    parts: list[str] = []
    for prev, line in zip([None, *kept], kept, strict=False):
        if prev is not None:
            parts.append("\n\n" if _BLANK_LINE.search(text, prev.end, line.start) else "\n")
        parts.append(line.text)
    return "".join(parts)
