"""Function words of the supported languages (jusText's stop lists), for telling prose from labels and names, and
for recognising a line plainly written in a given language without a language model."""

from functools import cache

import justext

_LANGUAGES = ("English", "Italian", "French", "German", "Spanish", "Portuguese", "Dutch")
# ISO 639-1 code → jusText's name of the language, for the languages language detection expects.
_STOPLISTS = {
    "en": "English", "it": "Italian", "fr": "French", "de": "German", "es": "Spanish", "pt": "Portuguese",
    "nl": "Dutch", "ru": "Russian", "uk": "Ukrainian", "pl": "Polish", "cs": "Czech", "ro": "Romanian",
    "sv": "Swedish", "da": "Danish", "nb": "Norwegian_Bokmal", "fi": "Finnish", "el": "Greek", "hu": "Hungarian",
    "tr": "Turkish", "ar": "Arabic",
}  # fmt: skip


@cache
def stopwords() -> frozenset[str]:
    words: set[str] = set()
    for language in _LANGUAGES:
        words |= {w.lower() for w in justext.get_stoplist(language) if w.isalpha()}
    return frozenset(words)


@cache
def stoplists() -> dict[str, frozenset[str]]:
    """ISO 639-1 code → that language's function words, lower case."""
    return {code: frozenset(w.lower() for w in justext.get_stoplist(name)) for code, name in _STOPLISTS.items()}
