import pytest

from tasks.text.decode import NotTextError, decode_payload, normalise, split_glued_headings


def test_decode_utf8_and_boms():
    assert decode_payload("città".encode()) == "città"
    assert decode_payload(b"\xef\xbb\xbfciao") == "ciao"
    assert decode_payload("città".encode("utf-16")) == "città"


def test_decode_uses_html_meta_charset_when_not_utf8():
    html = b'<html><head><meta charset="iso-8859-1"></head><body>citt\xe0 \x93virgolette\x94</body></html>'
    assert "città “virgolette”" in decode_payload(html, html=True)


def test_decode_uses_html_meta_http_equiv_charset():
    html = b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>\xf0\xd2\xc9\xd7\xc5\xd4</p>'
    assert "Привет" in decode_payload(html, html=True)


def test_decode_falls_back_to_cp1252_for_undeclared_legacy_text():
    assert decode_payload("La città è più bella".encode("cp1252")) == "La città è più bella"


def test_decode_keeps_mostly_utf8_text_with_replacement_characters():
    payload = "Perché la città è bella, più o meno così.".encode() + b"\xff" + b" Poi basta."
    decoded = decode_payload(payload)
    assert decoded.startswith("Perché la città") and "\ufffd" in decoded


@pytest.mark.parametrize(
    "payload",
    [
        b"%PDF-1.7 binary",
        b"\x89PNG\r\n\x1a\n....",
        bytes(range(256)) * 4,
        b"\xfd\xfc\xfb\xfa" * 50,
        b"\xff\xfe" + bytes([0xAB, 0xDB]) * 100,
        b"a\x00b\x00c\x00" * 30,
    ],
)
def test_decode_rejects_binary(payload):
    with pytest.raises(NotTextError):
        decode_payload(payload)


def test_normalise_quotes_spaces_controls_and_paragraphs():
    raw = "L\u2019esercito \u201cforte\u201d\u00a0e\u2009basta\x07.\r\n\r\n\r\n\r\nSecondo   paragrafo\u200b\t fine  \n"
    assert normalise(raw) == 'L\'esercito "forte" e basta.\n\nSecondo paragrafo fine'


def test_normalise_composes_unicode():
    assert normalise("citta\u0300") == "città"


@pytest.mark.parametrize(
    "raw, expected",
    [
        (
            "Soldati nordcoreani in RussiaLa Corea del Nord ha mandato truppe in Russia.",
            "Soldati nordcoreani in Russia\nLa Corea del Nord ha mandato truppe in Russia.",
        ),
        (
            "Il contestoSecondo fonti ucraine il contesto è cambiato.",
            "Il contesto\nSecondo fonti ucraine il contesto è cambiato.",
        ),
        ("da McDonald e con un iPhone su YouTube", "da McDonald e con un iPhone su YouTube"),
        ("profili LinkedIn e chat WhatsApp", "profili LinkedIn e chat WhatsApp"),
        ("the NATO summit and OpenAI and TikTok", "the NATO summit and OpenAI and TikTok"),
        ("BioNTech and DeSantis", "BioNTech and DeSantis"),
        (
            "DoubleClick, StackOverflow, KnowledgeCamp und die FuelCell-Familie",
            "DoubleClick, StackOverflow, KnowledgeCamp und die FuelCell-Familie",
        ),
        # "La" would open a sentence, but "Russia" never stands alone: no evidence of a lost line break
        ("Notizie dalla RussiaLa Corea del Nord", "Notizie dalla RussiaLa Corea del Nord"),
    ],
)
def test_split_glued_headings(raw, expected):
    assert split_glued_headings(raw) == expected


def test_normalise_splits_glued_heading_into_its_own_line():
    assert normalise("Contesto dei fattiIl governo ha deciso. I fatti sono noti.").split("\n") == [
        "Contesto dei fatti",
        "Il governo ha deciso. I fatti sono noti.",
    ]


def test_normalise_is_idempotent():
    text = "Titolo\u2019s RussiaLa  frase.\n\n\nAltro"
    assert normalise(normalise(text)) == normalise(text)
