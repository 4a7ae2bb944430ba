import pytest

from tasks.type_cues import stated_type


def typed(sentence: str, name: str, label: str, occurrence: int = 0) -> tuple[str, str]:
    start = -1
    for _ in range(occurrence + 1):
        start = sentence.index(name, start + 1)
    return stated_type(sentence, start, start + len(name), label)


@pytest.mark.parametrize(
    "sentence, name",
    [
        ("TURIN — The regional government has not approved the project.", "TURIN"),
        ("PARIS (AFP) – Le gouvernement a annoncé jeudi un plan.", "PARIS"),
        ("NEW YORK, Oct. 3 - Shares fell on Monday.", "NEW YORK"),
        ("TORINO – La Giunta regionale ha approvato il progetto.", "TORINO"),
    ],
)
def test_a_dateline_names_a_place(sentence, name):
    assert typed(sentence, name, "ORG") == ("LOC", "dateline")


@pytest.mark.parametrize(
    "sentence, name",
    [
        ("Paris – Le gouvernement a annoncé un plan.", "Paris"),  # not in capitals: a heading, a name, anything
        ("The talks in TURIN — a city of 850,000 — ended.", "TURIN"),  # not where the line opens
        ("NEW YORK — Shares fell on Monday.", "YORK"),  # a piece of the place
    ],
)
def test_what_is_no_dateline_keeps_the_model_label(sentence, name):
    assert typed(sentence, name, "ORG") == ("ORG", "model")


@pytest.mark.parametrize(
    "sentence, name, stated",
    [
        (
            "Resta critico il comitato «No Diga Valmora», che annuncia un ricorso.",
            "No Diga Valmora",
            ("ORG", "cue comitato"),
        ),
        (
            "Monti led the civic list Valmora Bene Comune, which won ten seats.",
            "Valmora Bene Comune",
            ("ORG", "cue list"),
        ),
        (
            'candidata della lista civica "Valmora Bene Comune", che ha ottenuto',
            "Valmora Bene Comune",
            ("ORG", "cue lista civica"),
        ),
        ('The "No Diga Valmora" committee welcomed the clarification.', "No Diga Valmora", ("ORG", "cue committee")),
        ("Fishing is banned along the Serpa river this year.", "Serpa", ("LOC", "cue river")),
        ("Bertolini wechselt zum Verein Lindenau.", "Lindenau", ("ORG", "cue verein")),
    ],
)
def test_a_head_noun_next_to_the_name_states_its_type(sentence, name, stated):
    assert typed(sentence, name, "PER") == stated


@pytest.mark.parametrize(
    "sentence, name",
    [
        ("the mayor of Valmora said on Monday", "Valmora"),  # a preposition between: nothing said about Valmora
        ("the committee in Valmora met on Monday", "Valmora"),
        ('"It is not," said committee spokesman Giovanni Pastorelli.', "Giovanni Pastorelli"),  # a noun between
        ("Il portavoce del comitato, Giovanni Pastorelli, ha ricordato le firme.", "Giovanni Pastorelli"),
        ("the company Musk bought last year", "Musk"),  # the name opens a clause, it is not in apposition
        ('candidata della lista civica "Valmora Bene Comune", che ha ottenuto', "Valmora"),  # a piece of the quote
        ("Regione: Valmora resta contraria", "Valmora"),  # punctuation between
        ("Il presidente Rai ha parlato ieri.", "Rai"),  # titles of people are no cue
        ("Le château du comte Dracula.", "Dracula"),  # a word that is also a title is no cue
    ],
)
def test_no_cue_right_beside_the_whole_name_keeps_the_model_label(sentence, name):
    assert typed(sentence, name, "PER") == ("PER", "model")


def test_labels_outside_the_conll_set_are_never_replaced():
    assert typed("TURIN — The regional government met.", "TURIN", "GPE") == ("GPE", "model")
    assert typed("il comitato «No Diga Valmora», che", "No Diga Valmora", "person") == ("person", "model")
