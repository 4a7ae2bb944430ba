"""Function words of the supported languages (jusText's stop lists), for telling prose from labels and names, and
for recognising a line plainly written in a given language without a language model."""

from functools import cache

import justext

_PROSE_LANGUAGES = ("en", "it", "fr", "de", "es", "pt", "nl")
# ISO 639-1 code → jusText's name of the language, for the languages language detection expects.
_STOPLISTS = {
    "en": "English", "it": "Italian", "fr": "French", "de": "German", "es": "Spanish", "pt": "Portuguese",
    "nl": "Dutch", "ru": "Russian", "uk": "Ukrainian", "pl": "Polish", "cs": "Czech", "ro": "Romanian",
    "sv": "Swedish", "da": "Danish", "nb": "Norwegian_Bokmal", "fi": "Finnish", "el": "Greek", "hu": "Hungarian",
    "tr": "Turkish", "ar": "Arabic",
}  # fmt: skip


@cache
def stopwords() -> frozenset[str]:
    return frozenset(w for code in _PROSE_LANGUAGES for w in stoplists()[code] if w.isalpha())


@cache
def stoplists() -> dict[str, frozenset[str]]:
    """ISO 639-1 code → that language's function words, lower case."""
    return {code: frozenset(w.lower() for w in justext.get_stoplist(name)) for code, name in _STOPLISTS.items()}
