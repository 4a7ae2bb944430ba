import pytest

from tasks.text.language import (
    UNDETERMINED,
    build_language_detector,
    detect_language,
    line_languages,
    plainly_in,
)


@pytest.fixture(scope="module")
def detector():
    return build_language_detector(["it", "en", "fr", "de", "es"])


@pytest.mark.parametrize(
    "text, language",
    [
        ("Il presidente ha detto che la guerra finirà presto, secondo fonti ufficiali.", "it"),
        ("The president said the war would end soon, according to official sources.", "en"),
        ("Le président a dit que la guerre finirait bientôt, selon des sources officielles.", "fr"),
        ("Der Präsident sagte, der Krieg werde bald enden, so offizielle Quellen.", "de"),
        ("El presidente dijo que la guerra terminaría pronto, según fuentes oficiales.", "es"),
    ],
)
def test_detects_language_with_confidence(detector, text, language):
    code, confidence = detect_language(detector, text)
    assert code == language
    assert 0.7 <= confidence <= 1.0


@pytest.mark.parametrize("text", ["", "Ok!", "12345 67890 !!!", "Roma"])
def test_too_little_text_is_undetermined(detector, text):
    assert detect_language(detector, text) == (UNDETERMINED, 0.0)


def test_ambiguous_text_is_undetermined_with_low_confidence(detector):
    code, confidence = detect_language(detector, "Zelensky Putin Kim Jong-un NATO KCNA")
    assert code == UNDETERMINED
    assert confidence < 0.5


def test_only_listed_languages_are_candidates():
    detector = build_language_detector(["en", "de"])
    code, _ = detect_language(detector, "Il presidente ha detto che la guerra finirà presto, secondo fonti ufficiali.")
    assert code in {"en", "de", UNDETERMINED}


@pytest.mark.parametrize("languages", [["it", "xx"], ["it"], []])
def test_build_rejects_bad_language_lists(languages):
    with pytest.raises(ValueError):
        build_language_detector(languages)


def test_lines_in_another_language_are_flagged(detector):
    text = (
        "Il presidente ha detto che la guerra finirà presto, secondo fonti ufficiali del governo.\n"
        "Pope Leo XIV renewed his appeal for peace in the Middle East during his visit to Lebanon.\n"
        "Breve riga in inglese: OK\n"
        "La comunità internazionale ha accolto con favore le parole del presidente."
    )
    assert line_languages(detector, text, "it") == {1: "en"}
    assert line_languages(detector, text, "en") == {0: "it", 3: "it"}


ITALIAN = "Il presidente ha detto che la guerra finirà presto, secondo fonti ufficiali del governo."
SPANISH = "El presidente dijo que la guerra terminará pronto, según fuentes oficiales del gobierno."
PORTUGUESE = "O presidente disse que a guerra vai acabar em breve, segundo fontes oficiais do governo."


def test_function_words_settle_only_a_line_plainly_in_the_language():
    assert plainly_in(ITALIAN, "it")
    assert plainly_in(SPANISH, "es")
    assert not plainly_in(SPANISH, "it")  # close languages share function words: the model decides
    assert not plainly_in(PORTUGUESE, "es")
    assert not plainly_in("Valmora, Cuneo, Torino, Milano e Genova", "it")  # names: too few function words
    assert not plainly_in(ITALIAN, "xx")  # a language without a stop list


def test_only_lines_not_plainly_in_the_article_language_go_to_the_model(detector):
    asked = []

    class Counting:
        def compute_language_confidence_values(self, text):
            asked.append(text)
            return detector.compute_language_confidence_values(text)

    text = "\n".join([ITALIAN, SPANISH, ITALIAN])
    assert line_languages(Counting(), text, "it") == {1: "es"}
    assert asked == [SPANISH]


def test_unsupported_language_is_undetermined_not_its_neighbour():
    detector = build_language_detector()  # the defaults: no Serbian, no Japanese
    serbian = "Ово је вест на српском језику о новом мосту у граду који ће бити отворен следеће године."
    japanese = "東京都は本日、新しい公共交通機関の計画を発表しました。市民の生活がより便利になると期待されています。"
    assert detect_language(detector, serbian)[0] == UNDETERMINED
    assert detect_language(detector, japanese)[0] == UNDETERMINED
