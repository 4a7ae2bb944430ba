"""Language identification with lingua, restricted to the languages a run expects."""

import functools
import re
from collections import Counter
from collections.abc import Sequence
from itertools import islice

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

from tasks.text.stopwords import stoplists

# Languages common in European and international news coverage.
DEFAULT_LANGUAGES = (
    "en", "it", "fr", "de", "es", "pt", "nl", "ru", "uk", "pl",
    "cs", "ro", "sv", "da", "nb", "fi", "el", "hu", "tr", "ar",
)  # fmt: skip
UNDETERMINED = "und"
MIN_LETTERS = 20
# Supported languages score above 0.9 on one sentence; text in a language outside the candidate set spreads its
# confidence over its neighbours (Serbian in Cyrillic: 0.57 for Russian) and is better called undetermined.
MIN_CONFIDENCE = 0.7
LINE_MIN_LETTERS = 40  # shorter lines (headings, names) are too short to overrule the article's language
LINE_MIN_CONFIDENCE = 0.9
SAMPLE_CHARS = 2000  # the opening of an article decides its language; longer input only costs time
LINE_SAMPLE_CHARS = 300  # ...and a few sentences a line's
# A line whose words are this share or more the article language's function words, and at least PLAIN_MARGIN more
# than any other language's, is in the article's language without asking the model. On trafilatura's evaluation
# corpus (17,389 lines of 986 pages) this settles 80 % of lines and never one the model calls another language
# (bench/peer_extraction.py measures the clean stage's speed).
PLAIN_SHARE = 0.3
PLAIN_MARGIN = 0.1
_LETTERS = re.compile(r"[^\W\d_]+")


def build_language_detector(languages: Sequence[str] | None = None) -> LanguageDetector:
    """A lingua detector over the given ISO 639-1 codes (DEFAULT_LANGUAGES when None), models preloaded.

    Built once per process and language set: preloading takes seconds and hundreds of MB.
    """
    codes = tuple(languages) if languages is not None else tuple(DEFAULT_LANGUAGES)
    return _build_detector(tuple(sorted(code.strip().lower() for code in codes)))


@functools.cache
def _build_detector(codes: tuple[str, ...]) -> LanguageDetector:
    try:
        isos = [IsoCode639_1.from_str(code) for code in codes]
    except ValueError as exc:
        raise ValueError(f"unknown ISO 639-1 code in {list(codes)}: {exc}") from exc
    if len(isos) < 2:
        raise ValueError("language detection needs at least two candidate languages")
    return LanguageDetectorBuilder.from_iso_codes_639_1(*isos).with_preloaded_language_models().build()


def detect_language(detector: LanguageDetector, text: str) -> tuple[str, float]:
    """(ISO 639-1 code, confidence); ("und", best confidence) when the text is too short or too ambiguous."""
    sample = text[:SAMPLE_CHARS]
    if next(islice(filter(str.isalpha, sample), MIN_LETTERS - 1, None), None) is None:
        return UNDETERMINED, 0.0
    values = detector.compute_language_confidence_values(sample)
    if not values:
        return UNDETERMINED, 0.0
    best = values[0]
    if best.value < MIN_CONFIDENCE:
        return UNDETERMINED, best.value
    return best.language.iso_code_639_1.name.lower(), best.value


def line_languages(detector: LanguageDetector, text: str, article_language: str) -> dict[int, str]:
    """{line number: language} for the lines of `text` confidently in a language other than the article's (an
    English teaser on an Italian page); every other line is in the article's language."""
    others = {}
    for no, line in enumerate(text.split("\n")):
        if next(islice(filter(str.isalpha, line), LINE_MIN_LETTERS - 1, None), None) is None:
            continue
        sample = line[:LINE_SAMPLE_CHARS]
        if plainly_in(sample, article_language):
            continue
        values = detector.compute_language_confidence_values(sample)
        if values and values[0].value >= LINE_MIN_CONFIDENCE:
            code = values[0].language.iso_code_639_1.name.lower()
            if code != article_language:
                others[no] = code
    return others


def plainly_in(text: str, language: str) -> bool:
    """Whether `text` is written in `language` by the evidence of function words alone (see PLAIN_SHARE)."""
    words = _LETTERS.findall(text.lower())
    if language not in stoplists() or not words:
        return False
    listed: Counter[str] = Counter()
    for word in words:
        listed.update(_languages_listing().get(word, ()))
    share = listed.pop(language, 0) / len(words)
    return share >= PLAIN_SHARE and share >= max(listed.values(), default=0) / len(words) + PLAIN_MARGIN


@functools.cache
def _languages_listing() -> dict[str, tuple[str, ...]]:
    """function word → the languages whose stop list has it."""
    listing: dict[str, list[str]] = {}
    for code, words in stoplists().items():
        for word in words:
            listing.setdefault(word, []).append(code)
    return {word: tuple(codes) for word, codes in listing.items()}
