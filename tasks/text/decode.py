"""Bytes → text: charset detection, binary sniffing and Unicode normalisation of article text."""

import codecs
import re
import unicodedata

from tasks.text.stopwords import stopwords

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC = (b"%PDF-", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_JUNK_CATEGORIES = frozenset({"Cc", "Cn", "Co", "Cs"})
_UNUSUAL = re.compile(r"[^\n\t\x20-\x7e\u00a0-\u024f]")  # only these can be junk; skips the common case fast
_HIGH_BYTES = bytes(range(0x80, 0x100))
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


class NotTextError(ValueError):
    """The payload is binary or in no recognisable text encoding."""


def decode_payload(payload: bytes, *, html: bool = False) -> str:
    """Decode with, in order: a BOM, strict UTF-8, an HTML <meta> charset, then a heuristic fallback.

    Undeclared non-UTF-8 bytes are read as cp1252 (the usual legacy encoding of Western news sites) when they are
    few, as UTF-8 with replacement characters when the text is UTF-8 with a few corrupt sequences; payloads that look
    binary, or decode to mostly unassigned or invalid characters, raise NotTextError.
    """
    text = _decode(payload, html=html)
    sample = text[:65536]
    junk = sum(unicodedata.category(ch) in _JUNK_CATEGORIES for ch in _UNUSUAL.findall(sample)) + sample.count("\ufffd")
    if junk > 0.1 * len(sample):
        raise NotTextError(f"{junk} of the first {len(sample)} characters are unassigned, private or invalid")
    return text


def _decode(payload: bytes, *, html: bool) -> str:
    for bom, encoding in _BOMS:
        if payload.startswith(bom):
            return payload.decode(encoding, errors="replace")
    if payload.startswith(_MAGIC):
        raise NotTextError("payload starts with a binary file signature")
    if len(_BINARY_BYTES.findall(payload[:65536])) > max(2, len(payload[:65536]) // 1000):
        raise NotTextError("payload holds control bytes that text does not")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _declared_charset(payload) if html else None
    if declared:
        return payload.decode(declared, errors="replace")
    as_utf8 = payload.decode("utf-8", errors="replace")
    high = len(payload) - len(payload.translate(None, _HIGH_BYTES))
    if high > 0.3 * len(payload):
        raise NotTextError(f"{high} of {len(payload)} bytes are neither ASCII nor valid UTF-8")
    looks_utf8 = as_utf8.count("\ufffd") * 4 < high
    return as_utf8 if looks_utf8 else payload.decode("cp1252", errors="replace")


def _declared_charset(payload: bytes) -> str | None:
    match = _META_CHARSET.search(payload[:4096])
    if not match:
        return None
    name = match.group(1).decode("ascii").lower()
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    # Browsers read latin-1 declarations as cp1252, which also maps the 0x80-0x9f range.
    return "cp1252" if name in {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"} else name


_CHAR_MAP = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
        **dict.fromkeys(
            "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t", " "
        ),
        **dict.fromkeys("\r\u2028\u2029\x85\x0b\x0c", "\n"),
        **dict.fromkeys("\u00ad\u200b\u2060\ufeff", None),
    }
)
_CONTROL = re.compile(r"[\x00-\x09\x0e-\x1f\x7f-\x84\x86-\x9f]")
_SPACES = re.compile(r" {2,}")
_BLANK_LINES = re.compile(r"\n{3,}")


def _char_class(categories: tuple[str, ...]) -> str:
    """Regex character class body for the BMP characters of the given Unicode categories (stdlib re has no \\p{..})."""
    chars = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) in categories]
    return "".join(re.escape(ch) for ch in chars)


_LOWER, _UPPER = _char_class(("Ll",)), _char_class(("Lu", "Lt"))
# A heading whose newline was lost reads "in RussiaLa Corea": a word glued to a capitalised function word that
# opens the next sentence. The cut is made only when the first part also stands alone in the text, so names whose
# parts are glued on purpose ("LinkedIn", "DoubleClick", "YouTube", "McDonald", "iPhone") stay whole.
_GLUED = re.compile(f"[{_LOWER}]{{3}}(?=[{_UPPER}][{_LOWER}])")
_WORD_CHARS = re.compile(r"\w+")


def split_glued_headings(text: str) -> str:
    words: set[str] | None = None
    parts, last = [], 0
    for match in _GLUED.finditer(text):
        cut = start = end = match.end()
        while start > 0 and text[start - 1].isalpha():
            start -= 1
        while end < len(text) and text[end].isalpha():
            end += 1
        if text[cut:end].lower() not in stopwords():
            continue
        if words is None:
            words = set(_WORD_CHARS.findall(text))
        if text[start:cut] in words:
            parts += [text[last:cut], "\n"]
            last = cut
    return "".join(parts) + text[last:]


def plain_characters(text: str) -> str:
    """NFC, plain quotes, dashes and spaces, no control characters."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text).translate(_CHAR_MAP))


def normalise(text: str) -> str:
    """NFC, plain quotes and spaces, no control characters, single spaces; line breaks and blank lines kept."""
    text = split_glued_headings(plain_characters(text.replace("\r\n", "\n")))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
