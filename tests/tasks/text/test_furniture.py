import pytest

from tasks.text.furniture import body_text, classify_lines, line_hash, line_key, source_line_hashes

P1 = (
    "Il consiglio comunale di Valmora ha approvato ieri sera il bilancio di previsione per il 2025 con diciotto "
    "voti favorevoli e dodici contrari, dopo una seduta durata quasi sette ore."
)
P2 = (
    "Fuori dal municipio un centinaio di residenti ha protestato contro il taglio dei fondi al trasporto "
    "scolastico, che secondo i comitati lascerà senza autobus almeno quattrocento studenti."
)
P3 = (
    "L'assessore al bilancio ha difeso la manovra spiegando che i costi dell'energia sono aumentati del 30% in due "
    "anni e che senza interventi il Comune avrebbe chiuso l'esercizio in disavanzo."
)
TITLE = "Valmora approva il bilancio tra le proteste dei residenti"


def decide(text, **kwargs):
    return {d.line.text: (d.kind, d.reason) for d in classify_lines(text, **kwargs)}


def kept(text, **kwargs):
    return body_text(text, classify_lines(text, **kwargs)).split("\n")


def test_title_subheading_and_paragraphs_are_kept():
    text = f"{TITLE}\n\n{P1}\nLe reazioni\n{P2}\n\n{P3}"
    got = decide(text, find_title=True)
    assert got[TITLE] == ("title", None)
    assert got["Le reazioni"] == ("body", None)  # a short line between paragraphs is a subheading
    assert body_text(text, classify_lines(text, find_title=True)) == f"{P1}\nLe reazioni\n{P2}\n\n{P3}"


def test_page_chrome_around_the_article_goes_with_reasons():
    text = "\n".join(
        [
            "Gazzetta di Valmora",
            "Home | Cronaca | Politica | Sport | Meteo",
            TITLE,
            "di Giulia Ferretti",
            "14.03.2025, 18:30",
            P1,
            P2,
            "Foto: Archivio Gazzetta",
            P3,
            "gazzettavalmora.example",
        ]
    )
    got = decide(text, find_title=True)
    assert got[TITLE][0] == "title"
    assert got["Home | Cronaca | Politica | Sport | Meteo"] == ("furniture", "navigation")
    assert got["14.03.2025, 18:30"] == ("furniture", "dateline")
    assert got["Foto: Archivio Gazzetta"] == ("furniture", "promo")
    assert got["gazzettavalmora.example"] == ("furniture", "site_tag")
    assert got["Gazzetta di Valmora"] == ("furniture", "before_title")
    assert got["di Giulia Ferretti"] == ("furniture", "byline")
    assert kept(text, find_title=True) == [P1, P2, P3]


def test_teaser_listing_with_read_more_and_repeated_titles():
    teasers = []
    for n, topic in enumerate(["Nuovo ponte sul fiume", "Scuole chiuse per neve", "Mercato in piazza"]):
        teasers += [
            topic,
            f"Articolo numero {n} su {topic.lower()}: la giunta ha deciso di procedere con i lavori entro...",
            "Continua a leggere",
            topic,
        ]
    text = "\n".join([P1, P2, "ALTRE NOTIZIE", *teasers])
    got = decide(text)
    assert got["Continua a leggere"] == ("furniture", "repeated_in_document")
    assert got["Nuovo ponte sul fiume"] == ("furniture", "repeated_in_document")
    assert got[teasers[1]] == ("furniture", "teaser")
    assert got["ALTRE NOTIZIE"] == ("furniture", "furniture_cue")
    assert kept(text) == [P1, P2]


def test_headline_snippet_teasers_appended_to_the_body():
    teaser_a = (
        "Ucraina, nuovo raid su Odessa: colpito il porto - Un attacco con droni ha colpito nella notte il porto "
        "di Odessa, danneggiando due magazzini di grano."
    )
    teaser_b = (
        "Energia, accordo sul gas tra i ministri europei - I ministri dell'energia hanno raggiunto un'intesa sul "
        "tetto al prezzo del gas dopo una lunga notte di trattative."
    )
    got = decide("\n".join([P1, P2, P3, teaser_a, teaser_b]))
    assert got[teaser_a] == got[teaser_b] == ("furniture", "teaser")
    dateline = "ROMA - Il consiglio dei ministri ha approvato il decreto sulle bollette dopo due ore di riunione."
    assert decide("\n".join([P1, dateline, P2]))[dateline] == ("body", None)


def test_duplicated_headline_and_promo_lines():
    promo_a = "Da non perdere: La giunta presenta il piano per le piste ciclabili."
    promo_b = "Da non perdere: VIDEO: Il sindaco risponde ai cittadini."
    text = "\n".join([TITLE, P1, f"{TITLE} {TITLE}", f"{TITLE} - gazzetta.tv", P2, promo_a, P3, promo_b, P1[:60] + "."])
    got = decide(text, find_title=True)
    assert got[f"{TITLE} {TITLE}"] == got[f"{TITLE} - gazzetta.tv"] == ("furniture", "duplicated_headline")
    assert got[promo_a] == got[promo_b] == ("furniture", "promo")  # the label recurs in the document
    single = "Secondo il sindaco: Il bilancio è in ordine e i conti tornano."
    assert decide("\n".join([P1, single, P2]))[single] == ("body", None)


def test_known_title_removes_its_copies():
    text = f"{TITLE}\n{P1}\n{P2}"
    assert decide(text, title=TITLE)[TITLE] == ("furniture", "duplicated_headline")


def test_lines_repeated_across_the_source():
    footer = "Gazzetta di Valmora fa parte del gruppo Editoriale Valle"
    text = f"{P1}\n{footer}\n{P2}"
    assert decide(text)[footer] == ("body", None)
    assert line_hash(line_key(footer)) in source_line_hashes(text)
    got = decide(text, source_repeated={line_hash(line_key(footer))})
    assert got[footer] == ("furniture", "repeated_in_source")


def test_cue_phrases_only_on_short_lines():
    cue = "Iscriviti alla newsletter"
    assert decide(f"{P1}\n{cue}\n{P2}")[cue] == ("furniture", "furniture_cue")
    long_line = (
        "Il comitato ha detto che chi vuole partecipare può iscriviti alla lista dei volontari presso la sede "
        "del quartiere entro la fine del mese prossimo."
    )
    assert decide(f"{P1}\n{long_line}\n{P2}")[long_line] == ("body", None)


def test_related_cues_and_the_headlines_under_them():
    standfirst = "Diciotto voti a favore e dodici contrari in consiglio."
    text = "\n".join(
        [standfirst, "Redazione | 14 marzo 2025", P1, P2, "Più notizie da Valmora", "Ti può interessare: Il piano"]
    )
    got = decide(text)
    assert got[standfirst] == ("body", None)
    assert got["Più notizie da Valmora"] == ("furniture", "furniture_cue")
    assert got["Ti può interessare: Il piano"] == ("furniture", "promo")
    related = "\n".join(
        [P1, "Mehr zum Thema", "Neue Ampel an der Kreuzung Nord", "Busse fahren im Viertelstundentakt", P2]
    )
    got = decide(related)
    assert (
        got["Neue Ampel an der Kreuzung Nord"]
        == got["Busse fahren im Viertelstundentakt"]
        == (
            "furniture",
            "related_list",
        )
    )
    assert got[P2] == ("body", None)  # a sentence ends the list


def test_short_sentences_stay_wherever_they_stand():
    """Short first and last sentences, and short sentences next to removed lines, are article text."""
    text = "\n".join(
        [
            "Aveva 91 anni.",
            P1,
            "Foto: Archivio",
            "Ha collaborato con Diane Schuur e Stan Getz.",
            P2,
            "Lo ricordano tutti.",
        ]
    )
    got = decide(text)
    assert got["Foto: Archivio"] == ("furniture", "promo")
    assert all(
        got[line] == ("body", None)
        for line in ("Aveva 91 anni.", "Ha collaborato con Diane Schuur e Stan Getz.", "Lo ricordano tutti.")
    )


def test_lists_and_table_rows_stay_even_at_the_end_and_repeated():
    items = ["- 350 g Zucker", "- 500 ml Milch", "- Salz", "- Salz"]
    rows = ["| Squadra | Punti | Gol |", "| Real Collina | 21 | 30 |", "| Virtus Pontesecco | 18 | 25 |"]
    got = decide("\n".join([P1, "Zutaten", *items, P2, "Classifica", *rows]))
    assert all(got[line] == ("body", None) for line in [*items, "Zutaten", "Classifica", *rows])


def test_bylines_and_widget_rows():
    text = "\n".join(["By Priya Natarajan, Transport correspondent", P1, "Print", "Share", "Comments (12)", P2])
    got = decide(text)
    assert got["By Priya Natarajan, Transport correspondent"] == ("furniture", "byline")
    assert got["Print"] == got["Share"] == got["Comments (12)"] == ("furniture", "furniture_cue")
    subheading = "De Madrid a Barcelona en tren"
    assert decide("\n".join([P1, subheading, P2]))[subheading] == ("body", None)


def test_short_texts_without_a_paragraph_are_kept():
    text = "Breve notizia.\nAltra riga breve."
    assert kept(text) == ["Breve notizia.", "Altra riga breve."]


def test_offsets_point_into_the_text_and_paragraph_breaks_survive():
    text = f"  Connect with us\n\n{P1}\n\n\n{P2}\nRead more  "
    decisions = classify_lines(text)
    assert all(text[d.line.start : d.line.end] == d.line.text for d in decisions)
    assert [d.line.no for d in decisions] == [0, 2, 5, 6]
    assert body_text(text, decisions) == f"{P1}\n\n{P2}"


@pytest.mark.parametrize("text", ["", "\n \n"])
def test_empty_text(text):
    assert classify_lines(text) == []


def test_seed_texts_lose_their_furniture(seeds_dir):
    from tasks.text.decode import normalise

    texts = {p.name: normalise(p.read_text(encoding="utf-8")) for p in sorted(seeds_dir.glob("*.txt"))}
    kept_text = {name: body_text(t, classify_lines(t, find_title=True)) for name, t in texts.items()}
    everything = "\n".join(kept_text.values())
    for furniture in ("Read More", "Connect with us", "LE ULTIME NOTIZIE", "Kryvyi Rih", "gnews.cz", "excelsior"):
        assert furniture in "\n".join(texts.values()) and furniture not in everything
    assert all(len(t.split("\n")) >= 4 for t in kept_text.values())
