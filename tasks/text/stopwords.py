"""Function words of the supported languages (jusText's stop lists), for telling prose from labels and names."""

from functools import cache

import justext

_LANGUAGES = ("English", "Italian", "French", "German", "Spanish", "Portuguese", "Dutch")


@cache
def stopwords() -> frozenset[str]:
    words: set[str] = set()
    for language in _LANGUAGES:
        words |= {w.lower() for w in justext.get_stoplist(language) if w.isalpha()}
    return frozenset(words)
