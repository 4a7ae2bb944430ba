import json

import pytest

from tasks.inputs.claims import ClaimsFileError, claim_texts, load_claims


def write(tmp_path, text, name="claims.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_loads_claims_with_defaults(tmp_path):
    df = load_claims(
        write(tmp_path, "claims:\n  - id: dam-approved\n    text: ' The dam was approved. '\n    language: en\n")
    )
    assert df.to_dicts() == [
        {
            "claim_id": "dam-approved",
            "text": "The dam was approved.",
            "language": "en",
            "enabled": True,
            "translations": None,
        }
    ]


def test_yaml_translations_are_kept_as_json_and_read_back_per_language(tmp_path):
    df = load_claims(
        write(
            tmp_path,
            (
                "claims:\n  - id: nk-troops\n    text: North Korea has sent troops to Russia.\n    language: en\n"
                "    translations:\n      it: La Corea del Nord ha inviato truppe in Russia.\n      fr: ' La Corée du Nord a envoyé des troupes en Russie. '\n"
            ),
        )
    )
    assert json.loads(df["translations"][0]) == {
        "fr": "La Corée du Nord a envoyé des troupes en Russie.",
        "it": "La Corea del Nord ha inviato truppe in Russia.",
    }
    assert claim_texts(df)["nk-troops"] == {
        "en": "North Korea has sent troops to Russia.",
        "fr": "La Corée du Nord a envoyé des troupes en Russie.",
        "it": "La Corea del Nord ha inviato truppe in Russia.",
    }


def test_csv_with_enabled_and_translation_columns(tmp_path):
    df = load_claims(
        write(
            tmp_path,
            (
                "id,text,language,enabled,text_it,text_de\n"
                "nk-troops,North Korea has sent troops to Russia.,en,,La Corea del Nord ha inviato truppe in Russia.,\n"
                'old,"An old claim, disabled.",en,false,,\n'
            ),
            "claims.csv",
        )
    )
    assert df.select("claim_id", "enabled", "translations").rows() == [
        ("nk-troops", True, json.dumps({"it": "La Corea del Nord ha inviato truppe in Russia."})),
        ("old", False, None),
    ]


@pytest.mark.parametrize(
    "name, body, fragment",
    [
        ("c.yaml", "claims: [", "not valid YAML"),
        ("c.yaml", "claims:\n  - id: Bad Id\n    text: abc\n    language: en\n", "malformed"),
        ("c.yaml", "claims:\n  - id: a\n    text: abc\n    language: english\n", "malformed"),
        ("c.yaml", "nothing: here\n", "malformed"),
        ("c.yaml", "claims:\n  - {id: a, text: abc, language: en, translations: {italian: testo}}\n", "malformed"),
        (
            "c.yaml",
            "claims:\n  - {id: a, text: abc, language: en}\n  - {id: a, text: abd, language: it}\n",
            "repeated claim ids: a",
        ),
        ("c.csv", "id,text\na,abc\n", "header lacks language"),
        ("c.csv", "id,text,language,enabled\na,abc,en,maybe\n", "malformed"),
    ],
)
def test_bad_files_raise_clear_errors(tmp_path, name, body, fragment):
    with pytest.raises(ClaimsFileError, match=fragment):
        load_claims(write(tmp_path, body, name))


def test_missing_file(tmp_path):
    with pytest.raises(ClaimsFileError, match="cannot read"):
        load_claims(tmp_path / "nope.yaml")


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    import time

    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\nclaims: *i\n")
    started = time.monotonic()
    with pytest.raises(ClaimsFileError, match=r"aliases \(\*name\) are not allowed in this file \(line 2"):
        load_claims(bomb)
    assert time.monotonic() - started < 2


def test_claims_file_errors_say_where_without_echoing_the_file(tmp_path):
    broken = tmp_path / "claims.yaml"
    broken.write_text("claims:\n  - id: confidential-claim\n    text: 42\n    language: [PRIVATE-DETAIL]\n")
    with pytest.raises(ClaimsFileError) as failure:
        load_claims(broken)
    message = str(failure.value)
    assert "claims.0.language" in message and "\n" not in message
    assert "PRIVATE-DETAIL" not in message
    unparsable = tmp_path / "unparsable.yaml"
    unparsable.write_text("claims:\n  - id: x\n    text: 'SECRET-TEXT\n")
    with pytest.raises(ClaimsFileError, match=r"line \d+, column \d+") as failure:
        load_claims(unparsable)
    assert "SECRET-TEXT" not in str(failure.value)
