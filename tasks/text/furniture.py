"""Line-level furniture removal for article text that has already lost its HTML.

A line is removed only on positive evidence that it is page furniture, never for being short, first, last or next
to a removed line: the article's short sentences, subheadings, lists and tables stay. The signals are structural,
or multilingual cue words kept as data below, never phrases of one site:

- `no_prose`: punctuation, symbols and numbers, or a few stop words standing alone ("on", "|---|").
- `site_tag`: a bare domain, URL, e-mail or handle.
- `duplicated_headline`: the title again, doubled, or followed by a site name ("Title - site.tv").
- `repeated_in_document`: a short line occurring more than once ("Read more" under every teaser, teaser titles);
  list items and table rows may repeat.
- `repeated_in_source`: a short line seen in several documents of the same site or source (footers, mastheads).
- `navigation`: menus and breadcrumbs ("Home | News | Sport", "News › Local"); `dateline`: a short line with a date
  or time and no sentence ("Updated 12.03.2025, 14:20").
- `teaser`: other articles' teasers: a run of "Headline - Snippet..." lines, or truncated snippets ending in an
  ellipsis in a listing.
- `promo`: "Label: Headline" lines whose label recurs in the document or is a credit, tag or call-to-action label.
- `byline`: "By Anna Roth", "Von Max Weber, Korrespondent", "Par Julien Marchand - Aujourd'hui à 07:45".
- `furniture_cue`: short lines with a sharing/cookie/subscription/widget cue in one of the supported languages.
- `related_list`: the headlines listed under a "Related"/"Mehr zum Thema" cue, up to the next sentence.
- `before_title`: lines above a plain text's headline that are not sentences (mastheads, kickers, menus).
- `after_article`: lone words after the article's last sentence (a site's name, a tag, a button).

The title of plain text is the longest headline-shaped line among the opening ones before the first paragraph.
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from stancewire.ids import sha256_hex
from tasks.text.stopwords import stopwords

PROSE_MIN_CHARS = 50
PROSE_MIN_STOPWORDS = 0.2
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
STOPWORDS_ALONE_MAX_WORDS = 3
BYLINE_MAX_WORDS = 12
AFTER_ARTICLE_MAX_WORDS = 2

# Cues that introduce other articles: the headline-shaped lines below them are a related-links list.
_RELATED_CUES = (
    "related", "related articles", "related stories", "read also", "see also", "more stories", "most read",
    "you may also like", "latest news", "more news", "trending", "recommended",
    "leggi anche", "potrebbe interessarti", "ti può interessare", "più notizie", "articoli correlati", "ultime notizie", "altre notizie", "più letti",
    "di tendenza", "lire aussi", "à lire aussi", "sur le même sujet", "plus d'actualités", "les plus lus",
    "lesen sie auch", "mehr zum thema", "das könnte sie auch interessieren", "auch interessant", "meistgelesen",
    "weitere artikel", "weitere nachrichten", "lee también", "te puede interesar", "noticias relacionadas",
    "más noticias", "lo más leído",
)  # fmt: skip
# Calls to action and page chrome, in the supported languages. One signal among many, limited to short lines.
_CUES = _RELATED_CUES + (
    "read more", "share this", "share on", "follow us", "connect with us", "sign up", "subscribe", "newsletter",
    "cookie", "privacy policy", "all rights reserved", "advertisement", "sponsored", "click here", "comments",
    "log in", "leave a comment", "listen to this article", "min read", "reading time", "download our app",
    "was this article helpful", "subscribers only", "got a story", "with reporting by",
    "leggi di più", "leggi tutto", "condividi su", "seguici", "iscriviti", "abbonati", "pubblicità",
    "riproduzione riservata", "tutti i diritti riservati", "tempo di lettura", "la nostra app", "con informazioni",
    "con fonte", "lascia un commento",
    "lire la suite", "partager sur", "suivez-nous", "abonnez-vous", "publicité", "tous droits réservés",
    "temps de lecture", "réservé aux abonnés", "cet article vous a été utile", "notre application",
    "weiterlesen", "artikel teilen", "folgen sie uns", "abonnieren", "anzeige", "werbung", "alle rechte vorbehalten",
    "lesezeit", "kommentare anzeigen", "nur für abonnenten", "war dieser artikel hilfreich", "unsere app",
    "leer más", "compartir en", "síguenos", "suscríbete", "publicidad", "todos los derechos reservados",
    "tiempo de lectura", "deja tu comentario", "exclusivo para suscriptores", "nuestra app",
)  # fmt: skip
# Widget labels: a line made only of these (and counts) is a button row ("Print", "Share", "Comments (0)").
_WIDGET_WORDS = frozenset(
    """
    print share comments comment published updated tweet email whatsapp facebook linkedin copy link
    stampa condividi commenti commenta pubblicato aggiornato imprimer partager commentaires publié
    drucken teilen kommentare kommentieren veröffentlicht aktualisiert imprimir compartir comentarios publicado
    """.split()
)
# Labels that introduce furniture in "Label: ..." lines: credits, tags, cross-references.
_LABELS = frozenset(
    """
    photo photos foto fotos bild bilder credit credits crédit crédits source sources fonte fonti fuente fuentes
    quelle quellen tags tag etiquetas topics themen argomenti thèmes mots-clés schlagworte keywords related
    correlati
    """.split()
)
# "By", in the supported languages, before an author's name.
_BYLINE_WORDS = ("by", "von", "par", "por", "di", "de", "door", "da")
_CUE = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(c) for c in _CUES) + r")(?!\w)", re.IGNORECASE)
_RELATED_CUE = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(c) for c in _RELATED_CUES) + r")(?!\w)", re.I)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_LETTER = re.compile(r"[^\W\d_]")
_BYLINE_SPLIT = re.compile(r",|\s[-–—|·•]\s|\s[|·•]|$")
_NAME_PARTICLES = frozenset("de del della di da van von der den du le la y".split())
_SITE_TAG = re.compile(
    r"^(?:(?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)+(?:/\S*)?|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|@\w+)$", re.IGNORECASE
)
_ELLIPSIS_END = re.compile(r"(?:\.{3}|…)\s*$")
_OMISSION_END = re.compile(r"[(\[](?:\.{3}|…)[)\]]\s*$")
_TEASER = re.compile(r"^(?P<head>[^.!?]{10,}?) [-–—] (?P<snippet>[\"'«(]?[^\W\d_].*)$")
_PROMO = re.compile(r"^(?P<label>[^\W\d_][^:.!?]{0,40}?)\s?:\s+(?P<rest>\S.*)$")
_NAV_SEPARATORS = re.compile(r"\s+[|>»›·•/]\s+|\s*\|\s*")
_LIST_ITEM = re.compile(r"^(?:[-•*–]\s|\d{1,3}[.)]\s)")
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


def is_sentence(text: str) -> bool:
    return text.endswith(_SENTENCE_END)


def is_list_item(text: str) -> bool:
    return bool(_LIST_ITEM.match(text))


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
        words = key.split()
        if not key or len(_LETTER_OR_DIGIT.findall(text)) < 0.5 * len(text.replace(" ", "")):
            return "no_prose"
        if len(words) <= STOPWORDS_ALONE_MAX_WORDS and not is_sentence(text) and set(words) <= stopwords():
            return "no_prose"
        if _SITE_TAG.match(text):
            return "site_tag"
        if self.title_key and _is_headline_copy(key, self.title_key):
            return "duplicated_headline"
        structured = is_list_item(text) or is_table_row(text)
        if self.counts[key] > 1 and not structured and (_short(key) or self.keys.index(key) != i):
            return "repeated_in_document"
        if _source_repeatable(key) and line_hash(key) in self.source_repeated:
            return "repeated_in_source"
        if _is_navigation(text) and not structured:
            return "navigation"
        if _is_dateline(text, key):
            return "dateline"
        if self._teaser(i):
            return "teaser"
        if self._promo(text):
            return "promo"
        if len(words) <= BYLINE_MAX_WORDS and not text.endswith(".") and _is_byline(text):
            return "byline"
        if set(words) <= _WIDGET_WORDS | {"0"} or (len(words) <= CUE_MAX_WORDS and _CUE.search(text)):
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
        if not match or len(text.split()) > 25:
            return False
        label = match.group("label").lower()
        if label in _LABELS:
            return True
        return match.group("rest")[:1].isupper() and (label in self.repeated_labels or bool(_CUE.fullmatch(label)))


def _is_byline(text: str) -> bool:
    """ "By" and one to four capitalised names, then the end of the line or a separator before a role or a time."""
    first, _, rest = text.partition(" ")
    if first.lower() not in _BYLINE_WORDS:
        return False
    names = _BYLINE_SPLIT.split(rest, maxsplit=1)[0].split()
    capitalised = [n for n in names if n not in _NAME_PARTICLES]
    return 1 <= len(capitalised) <= 4 and all(n[:1].isupper() and _LETTER.match(n) for n in capitalised)


def is_table_row(text: str) -> bool:
    """A table row as extraction writes it: "| cell | cell |"."""
    return len(text) > 1 and text.startswith("|") and text.endswith("|")


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


def _is_prose(text: str) -> bool:
    if text.endswith(_TERMINAL):
        return True
    words = _WORD.findall(text.lower())
    stop = sum(w in stopwords() for w in words) / len(words) if words else 0.0
    return len(text) >= PROSE_MIN_CHARS and stop >= PROSE_MIN_STOPWORDS and not is_headline(text)


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
    features = _Features(lines, title, frozenset(source_repeated))
    reasons = [features.signal(i) for i in range(len(lines))]
    title_idx = _find_title(lines, reasons) if find_title and title is None else None
    if title_idx is not None:
        title_key = features.keys[title_idx]
        for i, key in enumerate(features.keys):
            if i != title_idx and reasons[i] is None and _is_headline_copy(key, title_key):
                reasons[i] = "duplicated_headline"
        for i in range(title_idx):
            if reasons[i] is None and not is_sentence(lines[i].text):
                reasons[i] = "before_title"
    _related_lists(lines, reasons)
    _after_article(lines, reasons, title_idx)
    decisions = []
    for i, line in enumerate(lines):
        kind = "title" if i == title_idx else "furniture" if reasons[i] else "body"
        decisions.append(Decision(line, kind, reasons[i] if kind == "furniture" else None))
    return decisions


def _find_title(lines: list[Line], signals: list[str | None]) -> int | None:
    """The headline among the opening lines: the longest headline-shaped line before the first paragraph (a
    masthead, a byline or a date may stand above or below it)."""
    window = min(TITLE_SEARCH_LINES + TITLE_MAX_GAP_LINES, len(lines))
    first_prose = next((j for j in range(window) if _is_prose(lines[j].text)), None)
    if first_prose is None:
        return None
    candidates = [
        i
        for i in range(min(first_prose, TITLE_SEARCH_LINES))
        if signals[i] is None and is_headline(lines[i].text) and len(lines[i].text.split()) >= TITLE_MIN_WORDS
    ]
    return max(candidates, key=lambda i: len(lines[i].text.split()), default=None)


def _related_lists(lines: list[Line], reasons: list[str | None]) -> None:
    """The lines under a related-articles cue that are not sentences: other articles' headlines."""
    in_list = False
    for i, line in enumerate(lines):
        if reasons[i] == "furniture_cue" and _RELATED_CUE.search(line.text) and not is_sentence(line.text):
            in_list = True
        elif is_sentence(line.text) and reasons[i] is None:
            in_list = False
        elif in_list and reasons[i] is None:
            reasons[i] = "related_list"


def _after_article(lines: list[Line], reasons: list[str | None], title_idx: int | None) -> None:
    """Lone words after the article's last sentence, list item or table row: the page's foot (a site's name, a tag,
    a button). Longer lines there may be a signature, an address or a note, and stay."""
    kept = [i for i, r in enumerate(reasons) if r is None and i != title_idx]
    ends = [i for i in kept if is_sentence(t := lines[i].text) or is_list_item(t) or is_table_row(t)]
    if not ends:
        return
    for i in kept:
        if i > ends[-1] and len(lines[i].text.split()) <= AFTER_ARTICLE_MAX_WORDS:
            reasons[i] = "after_article"


def body_text(text: str, decisions: list[Decision]) -> str:
    """The body lines of `text`, with paragraph breaks (blank lines) kept where furniture did not stand."""
    kept = [d.line for d in decisions if d.kind == "body"]
    parts: list[str] = []
    for prev, line in zip([None, *kept], kept, strict=False):
        if prev is not None:
            parts.append("\n\n" if _BLANK_LINE.search(text, prev.end, line.start) else "\n")
        parts.append(line.text)
    return "".join(parts)
