"""Language-aware term normalisation shared by the relevance prefilter and the quantity extractor.

A term is a lower-cased, accent-stripped word cut to a fixed prefix (a crude stemmer that works the same way in
every Latin-script language: "soldati"/"soldato" → "solda", "inviato"/"inviati" → "invia"), or a number written
without separators ("10.000", "10,000" and "10 000" → "10000"). Stopwords of the article's language are dropped.
"""

import re
import unicodedata

PREFIX = 5
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+(?:[.,\u00a0\u202f ]\d{3})*(?:[.,]\d+)?", re.UNICODE)
_ELISION = re.compile(r"^(?:l|d|un|all|dell|nell|sull|dall|qu|j|c|s|n|m|t)['’]", re.IGNORECASE)

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "a an the and or but of to in on at for from by with as is are was were be been being has have had do does "
        "did this that these those it its they them their he she his her we our you your not no more than about "
        "also which who whom whose what when where why how there here after before over under into out up down "
        "said says will would can could may might must should".split()
    ),
    "it": frozenset(
        "il lo la i gli le un uno una di del dello della dei degli delle a al allo alla ai agli alle da dal dallo "
        "dalla dai dagli dalle in nel nello nella nei negli nelle su sul sullo sulla sui sugli sulle con per tra "
        "fra e ed o od ma che chi cui non si ci ne è sono era erano stato stata stati state essere ha hanno aveva "
        "avevano questo questa questi queste quello quella quelli quelle come anche più già dopo prima sia".split()
    ),
    "fr": frozenset(
        "le la les un une des du de d au aux en et ou mais que qui quoi ne pas plus dans sur par pour avec sans "
        "sous est sont était été être a ont avait ce cette ces son sa ses leur leurs il elle ils elles on "
        "se".split()
    ),
    "de": frozenset(
        "der die das den dem des ein eine einen einem einer eines und oder aber dass nicht in im an am auf aus bei "
        "mit nach von vom zu zum zur für über unter vor ist sind war waren wurde wurden hat haben hatte sein es er "
        "sie wir ihr als auch noch nur".split()
    ),
    "es": frozenset(
        "el la los las un una unos unas de del al a en y o pero que quien no por para con sin sobre entre es son "
        "era fue han ha había ser este esta estos estas ese esa se su sus lo le les como más ya".split()
    ),
}
_ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())


def fold(text: str) -> str:
    """Lower case without accents ("Città" → "citta")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def number_key(token: str) -> str:
    """ "10.000", "10,000", "10 000" → "10000"; decimals keep one separator ("2,5" → "2.5")."""
    groups = re.split(r"[.,\u00a0\u202f ]", token)
    if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
        return "".join(groups)
    return token.replace(",", ".")


def stem(word: str) -> str:
    folded = fold(word)
    return folded[:PREFIX] if len(folded) > PREFIX else folded


def terms(text: str, language: str | None) -> set[str]:
    """The set of content terms of `text`: stems of non-stopwords (3+ letters) and normalised numbers."""
    stop = STOPWORDS.get(language or "", _ALL_STOPWORDS)
    out = set()
    for match in _WORD.finditer(text):
        token = match.group()
        if token[0].isdigit():
            out.add(number_key(token))
            continue
        token = _ELISION.sub("", token)
        folded = fold(token)
        if len(folded) >= 3 and folded not in stop:
            out.add(stem(folded))
    return out
