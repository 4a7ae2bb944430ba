import pytest

from tasks.language import UNDETERMINED, build_language_detector, detect_language


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
    assert 0.5 <= confidence <= 1.0


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
