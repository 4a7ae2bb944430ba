import pytest

from tasks.text.sentences import MAX_SENTENCE_CHARS, split_sentences


def sentences(text):
    spans = split_sentences(text)
    for start, end in spans:
        assert text[start:end] == text[start:end].strip() != ""
    return [text[start:end] for start, end in spans]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Il Sig. Rossi è arrivato. Poi il Dott. Bianchi ha parlato. Sono arrivati 1.000 soldati e 10.000 civili.",
            [
                "Il Sig. Rossi è arrivato.",
                "Poi il Dott. Bianchi ha parlato.",
                "Sono arrivati 1.000 soldati e 10.000 civili.",
            ],
        ),
        ("Armi, munizioni, droni ecc. Poi la tregua.", ["Armi, munizioni, droni ecc.", "Poi la tregua."]),
        ("Armi, droni ecc. e munizioni.", ["Armi, droni ecc. e munizioni."]),
        (
            "Der Preis, z.B. Brot, stieg am 3. Oktober um 3.5 Prozent. Dann kam der Winter.",
            ["Der Preis, z.B. Brot, stieg am 3. Oktober um 3.5 Prozent.", "Dann kam der Winter."],
        ),
        ("M. Macron a parlé. Mme Dupont aussi.", ["M. Macron a parlé.", "Mme Dupont aussi."]),
        ("El Sr. García llegó. ¿Qué pasa? ¡Nada!", ["El Sr. García llegó.", "¿Qué pasa?", "¡Nada!"]),
        (
            "Mr. Smith joined the U.S. Army in 1990. J. K. Rowling wrote it, etc. and more.",
            ["Mr. Smith joined the U.S. Army in 1990.", "J. K. Rowling wrote it, etc. and more."],
        ),
        ('He said "Yes." Then he left.', ['He said "Yes."', "Then he left."]),
        ("«Basta.» Poi uscì. (Nota a margine.) Fine", ["«Basta.»", "Poi uscì.", "(Nota a margine.)", "Fine"]),
        (
            '"Sul fronte di Kursk (...) e sembra che siano arrivati", ha detto. Attesa... Poi nulla.',
            ['"Sul fronte di Kursk (...) e sembra che siano arrivati", ha detto.', "Attesa...", "Poi nulla."],
        ),
        ("Citazione (...) E poi il resto.", ["Citazione (...) E poi il resto."]),
        (
            "Ma… Poi tornò. Pag. 5 del rapporto, art. 3 della legge.",
            ["Ma…", "Poi tornò.", "Pag. 5 del rapporto, art. 3 della legge."],
        ),
        ("Crescita del 3.5. Nel 2024 invece no.", ["Crescita del 3.5.", "Nel 2024 invece no."]),
        ("Morti: 18. 2024 è stato un anno difficile.", ["Morti: 18.", "2024 è stato un anno difficile."]),
        ("la sigla es. the end", ["la sigla es. the end"]),
        (
            "Accord signé d'ici à 2027. « C'est une victoire », a-t-il dit. « Fini. » Puis rien.",
            ["Accord signé d'ici à 2027.", "« C'est une victoire », a-t-il dit.", "« Fini. »", "Puis rien."],
        ),
        ("Il club della 2. Bundesliga ha vinto. Poi basta.", ["Il club della 2. Bundesliga ha vinto.", "Poi basta."]),
        ("Fueron al mar. Luego volvieron.", ["Fueron al mar.", "Luego volvieron."]),
        (
            "See No. 5 and art. 3. The answer was no. Then he left.",
            ["See No. 5 and art. 3.", "The answer was no.", "Then he left."],
        ),
        ("Shares of Apple Inc. The company said so.", ["Shares of Apple Inc.", "The company said so."]),
        ("Citazione (…) E poi il resto… Fine.", ["Citazione (…) E poi il resto…", "Fine."]),
        (
            "Der Umsatz stieg auf 3,5 Mio. Euro. Dr. med. Weber widersprach.",
            ["Der Umsatz stieg auf 3,5 Mio. Euro.", "Dr. med. Weber widersprach."],
        ),
        ('He said: "We will win." "When?" asked Smith.', ['He said: "We will win."', '"When?" asked Smith.']),
    ],
)
def test_split_sentences(text, expected):
    assert sentences(text) == expected


def test_newlines_are_hard_boundaries_and_blank_lines_are_skipped():
    text = "Titolo senza punto\n\nPrimo paragrafo. Seconda frase\nUltima riga"
    assert sentences(text) == ["Titolo senza punto", "Primo paragrafo.", "Seconda frase", "Ultima riga"]
    assert split_sentences(text)[1] == (20, 36)


def test_empty_text_has_no_sentences():
    assert split_sentences("") == []
    assert split_sentences("\n\n  \n") == []


def test_run_on_text_is_cut_at_whitespace():
    text = " ".join(["parola"] * 600)
    parts = sentences(text)
    assert len(parts) > 1
    assert all(len(p) <= MAX_SENTENCE_CHARS for p in parts)
    assert " ".join(parts) == text
