"""Rule-based sentence segmentation for European news text, returning exact character offsets.

Line breaks are hard boundaries. Inside a line a sentence ends at . ! ? or an ellipsis (plus any closing quotes or
brackets) followed by whitespace and a capital, digit or opening quote, unless the word before the stop is an
abbreviation, an initial, a dotted acronym, or a day number before a month name.
"""

import re

MAX_SENTENCE_CHARS = 1000
_MAX_WORD_CHARS = 40  # how far back to look for the word before a full stop

# Lowercased, without the final dot: titles and other abbreviations that are almost never sentence-final.
_ABBREVIATIONS = frozenset(
    """
    sig sigg sig.ra sig.na dott dott.ssa prof prof.ssa avv ing arch geom rag sen dep gen col magg cav mons cfr vd
    mr mrs ms dr st jr sr sra sras srta srs messrs rev hon gov pres rep sgt lt capt cmdr adm maj dept univ vs
    mme mlle mm me mgr pr env hr hrn fr frl dipl bzw vgl z.b u.a d.h s.o o.ä ggf inkl evtl e.g i.e ud uds dña avda
    jan feb apr jun jul aug sep sept oct nov dec febb ott dic mio mrd tsd med
    """.split()
)
# Abbreviations that only continue the sentence before a number: "No. 5", "art. 3", "pag. 12", "ca. 200".
_NUMBER_ABBREVIATIONS = frozenset("no nos nr art artt pag pagg pp cap vol fig tel ca approx".split())
# Words that end sentences often enough that a following capital means a new sentence.
_SENTENCE_FINAL_ABBREVIATIONS = frozenset("ecc etc usw u.s.w inc ltd corp co".split())
# Words that follow a day number or a German ordinal ("am 3. Oktober", "die 2. Bundesliga"), not a new sentence.
_AFTER_ORDINAL = frozenset(
    """
    januar februar märz april mai juni juli august september oktober november dezember gennaio febbraio marzo
    aprile maggio giugno luglio agosto settembre ottobre novembre dicembre janvier février mars avril juin
    juillet août septembre octobre décembre enero febrero abril mayo junio julio agosto septiembre octubre
    noviembre diciembre january february march may june july october december
    bundesliga liga weltkrieg jahrhundert klasse runde halbzeit spieltag platz stock mal
    """.split()
)

# Closing quotes may follow the stop, and French « » guillemets may be spaced: « C'est fini. » Puis...
_BOUNDARY = re.compile(r"""(?:\.{3}|…|[.!?]+)(?:\s?»|["'”’)\]])*(?=\s+(?:[«"“'(\[¿¡\-–—]\s?)*[^\W_])""")
_WORD_BEFORE = re.compile(r"""(?:^|[\s("'«\[])([^\s("'«\[]*)$""")
_DOTTED_ACRONYM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
_NEXT_WORD = re.compile(r"""\s+(?:[«"“'(\[¿¡\-–—]\s?)*([^\W_][\w'-]*)""")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`: text[start:end] is the stripped sentence."""
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line in text.split("\n"):
        for start, end in _split_line(line):
            spans.extend(_cap_length(text, line_start + start, line_start + end))
        line_start += len(line) + 1
    return spans


def _split_line(line: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for match in _BOUNDARY.finditer(line):
        if _is_boundary(line, match):
            spans.append((start, match.end()))
            start = match.end()
    spans.append((start, len(line)))
    return [stripped for s, e in spans if (stripped := _strip(line, s, e))]


def _is_boundary(line: str, match: re.Match[str]) -> bool:
    stop = match.group(0)
    next_word = _NEXT_WORD.match(line, match.end()).group(1)
    if not next_word[0].isupper() and not next_word[0].isdigit():
        return False
    if stop.startswith(("...", "…")):
        # "(...)" marks an omission inside a quote, not the end of a sentence.
        return line[match.start() - 1 : match.start()] != "("
    if not stop.startswith("."):
        return True
    before = _WORD_BEFORE.search(line, max(0, match.start() - _MAX_WORD_CHARS), match.start())
    word = before.group(1) if before else ""
    if not word:
        return True
    key = word.lower()
    if key in _SENTENCE_FINAL_ABBREVIATIONS:
        return True
    if key in _ABBREVIATIONS:
        return False
    if key in _NUMBER_ABBREVIATIONS:
        return not next_word[0].isdigit()
    if len(word) == 1 and word.isalpha():
        return False  # an initial ("J. K. Rowling", "M. Macron") or a one-letter abbreviation ("p. 5")
    if _DOTTED_ACRONYM.fullmatch(word):
        return False  # "U.S.", "z.B."
    if word.isdigit() and len(word) <= 2 and next_word.lower() in _AFTER_ORDINAL:
        return False
    return True


def _strip(line: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and line[start].isspace():
        start += 1
    while end > start and line[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _cap_length(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut run-on "sentences" (lists, tables with no punctuation) at whitespace: later models need bounded input."""
    spans = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + 1, start + MAX_SENTENCE_CHARS)
        if cut <= start:
            cut = start + MAX_SENTENCE_CHARS
        spans.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    spans.append((start, end))
    return spans
