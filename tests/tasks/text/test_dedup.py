import numpy as np
import polars as pl

from tasks.text.dedup import NEAR_DUPLICATE_JACCARD, NUM_PERM, DuplicateIndex, fingerprint

ARTICLE = (
    "La Corea del Nord ha inviato altre truppe in Russia e ne ha schierate alcune al fronte nella regione di Kursk, "
    "ha affermato giovedì l'agenzia di spionaggio della Corea del Sud.\n"
    "I servizi segreti di Seul hanno affermato che più di 10.000 soldati nordcoreani sono stati inviati in Russia "
    "per prendere parte all'offensiva contro l'Ucraina.\n"
    "Né Mosca né Pyongyang hanno confermato lo spiegamento, ma hanno firmato un trattato di difesa reciproca entrato "
    "in vigore poco prima che comparissero le notizie.\n"
    "Gli esperti di sicurezza hanno messo in guardia dai rischi di tale collaborazione per la stabilità regionale."
)
SAME_STORY = (
    "Kim Jong-un ha deciso di sostenere attivamente Mosca con soldati dopo l'invio di armi e munizioni. Le conferme "
    "emergono da fonti ucraine e sudcoreane, supportate da un video diffuso su Telegram. Secondo Kiev i soldati "
    "nordcoreani in Russia potrebbero arrivare a dodicimila entro novembre, mentre la NATO chiede prove definitive."
)


def similarity(a: str, b: str) -> float:
    x, y = (np.frombuffer(fingerprint(t).minhash, dtype="<u4") for t in (a, b))
    return float((x == y).mean())


def test_signature_shape_and_stability():
    fp = fingerprint(ARTICLE)
    assert len(fp.minhash) == 4 * NUM_PERM and fp == fingerprint(ARTICLE)
    # Stored signatures are compared with new ones: the hashing scheme must never change silently.
    assert np.frombuffer(fingerprint("uno due tre quattro cinque sei sette otto nove dieci undici").minhash, "<u4")[
        :3
    ].tolist() == [172785037, 519550564, 100129768]


def test_exact_duplicates_ignore_case_punctuation_and_spacing():
    variant = ARTICLE.upper().replace(",", " ,").replace("\n", "\n\n")
    assert fingerprint(variant).text_hash_normalised == fingerprint(ARTICLE).text_hash_normalised


def test_near_duplicates_and_distinct_articles_on_the_same_story():
    syndicated = "SEUL (AFP)\n" + ARTICLE.replace("giovedì", "mercoledì") + "\nCon informazioni dell'AFP."
    assert similarity(ARTICLE, syndicated) >= NEAR_DUPLICATE_JACCARD
    rewritten = ARTICLE.rsplit("\n", 1)[0] + "\n" + SAME_STORY
    assert similarity(ARTICLE, rewritten) < NEAR_DUPLICATE_JACCARD
    assert similarity(ARTICLE, SAME_STORY) < 0.2


def test_index_links_to_the_first_canonical_article():
    index = DuplicateIndex()
    assert index.match(fingerprint(ARTICLE)) is None
    index.add("a1", fingerprint(ARTICLE))
    assert index.match(fingerprint(ARTICLE + " ")) == ("a1", 1.0)
    near = index.match(fingerprint(ARTICLE.replace("giovedì", "ieri")))
    assert near[0] == "a1" and NEAR_DUPLICATE_JACCARD <= near[1] < 1.0
    assert index.match(fingerprint(SAME_STORY)) is None


def test_short_texts_are_only_compared_exactly():
    fp = fingerprint("Breve nota.")
    assert fp.minhash is None
    index = DuplicateIndex()
    index.add("a1", fp)
    assert index.match(fingerprint("breve   NOTA")) == ("a1", 1.0)
    assert index.match(fingerprint("Breve nota di oggi.")) is None


def test_index_from_stored_rows_skips_duplicates():
    fp = fingerprint(ARTICLE)
    rows = pl.DataFrame(
        {
            "article_id": ["dup", "canon"],
            "text_hash_normalised": [fp.text_hash_normalised, "f" * 64],
            "minhash": [fp.minhash, fingerprint(SAME_STORY).minhash],
            "duplicate_of": ["canon", None],
        }
    )
    index = DuplicateIndex(rows)
    assert index.match(fp) is None
    assert index.match(fingerprint(SAME_STORY))[0] == "canon"
