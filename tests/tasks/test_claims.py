import pytest

from tasks.claims import ClaimsFileError, load_claims


def write(tmp_path, text):
    p = tmp_path / "claims.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_loads_claims_with_defaults(tmp_path):
    df = load_claims(write(tmp_path, "claims:\n  - id: dam-approved\n    text: ' The dam was approved. '\n    language: en\n"))
    assert df.to_dicts() == [{"claim_id": "dam-approved", "text": "The dam was approved.", "language": "en", "enabled": True}]


@pytest.mark.parametrize(
    "body, fragment",
    [
        ("claims: [", "not valid YAML"),
        ("claims:\n  - id: Bad Id\n    text: abc\n    language: en\n", "malformed"),
        ("claims:\n  - id: a\n    text: abc\n    language: english\n", "malformed"),
        ("nothing: here\n", "malformed"),
        ("claims:\n  - {id: a, text: abc, language: en}\n  - {id: a, text: abd, language: it}\n", "repeats claim ids: a"),
    ],
)
def test_bad_files_raise_clear_errors(tmp_path, body, fragment):
    with pytest.raises(ClaimsFileError, match=fragment):
        load_claims(write(tmp_path, body))


def test_missing_file(tmp_path):
    with pytest.raises(ClaimsFileError, match="cannot read"):
        load_claims(tmp_path / "nope.yaml")
