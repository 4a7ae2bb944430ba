from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from stancewire.frames import ENTITIES, ENTITY_OVERRIDES, empty
from tasks.inputs.aliases import AliasFileError, AliasList, load_aliases, name_key
from tasks.link import entity_id, link_mentions

T0 = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def aliases() -> AliasList:
    return load_aliases([])


def mention(article: str, start: int, text: str, label: str, sentence: int = 0, label_from: str = "model") -> dict:
    return {
        "mention_id": f"{article}@{start}",
        "article_id": article,
        "sentence_id": f"{article}:{sentence}",
        "start": start,
        "end": start + len(text),
        "text": text,
        "label": label,
        "label_from": label_from,
        "score": 0.9,
    }


def link(rows: list[dict], aliases: AliasList, overrides: pl.DataFrame | None = None, existing=None):
    return link_mentions(
        pl.DataFrame(rows),
        existing if existing is not None else empty(ENTITIES),
        aliases,
        overrides if overrides is not None else empty(ENTITY_OVERRIDES),
    )


def entity_of(result) -> dict[str, str]:
    """mention_id → entity name."""
    names = dict(result.entities.select("entity_id", "name").iter_rows())
    return {m: names.get(e, e) for m, e in result.links.select("mention_id", "entity_id").iter_rows()}


@pytest.mark.parametrize(
    "variants",
    [
        ["Kim Jong-un", "Kim Jong Un", "KIM JONG UN", "Kim  Jong‐un"],
        ["Zelensky", "Zelenskyy", "Zelenskiy", "Zelenskij", "Zelenski"],
        ["Kyïv", "Kyiv", "kyiv"],
        ["Corée du Nord", "Coree du nord", "Corée-du-Nord"],
        ["Łódź", "Lodz"],
    ],
)
def test_spelling_variants_share_a_name_key(variants):
    assert len({name_key(v) for v in variants}) == 1


@pytest.mark.parametrize("a, b", [("Kim", "Kim Jong Un"), ("Kursk", "Kursk Oblast"), ("Rih", "Rig"), ("Sky", "Ski")])
def test_different_names_keep_different_keys(a, b):
    assert name_key(a) != name_key(b)


def test_surname_after_full_name_is_the_same_person_only_within_the_article(aliases):
    result = link(
        [
            mention("a", 0, "Oleh Petrenko", "PER"),
            mention("a", 40, "Petrenko", "PER"),
            mention("a", 60, "Oleh", "PER"),
            mention("b", 0, "Petrenko", "PER"),  # no full name in b: not merged with a's person
            mention("c", 0, "Iryna Petrenko", "PER"),  # same surname, another person
            mention("c", 30, "Petrenko", "PER"),
        ],
        aliases,
    )
    by = entity_of(result)
    assert by["a@0"] == by["a@40"] == by["a@60"] == "Oleh Petrenko"
    assert by["c@0"] == by["c@30"] == "Iryna Petrenko"
    assert by["b@0"] == "Petrenko"
    assert len({by["a@0"], by["b@0"], by["c@0"]}) == 3
    methods = dict(result.links.select("mention_id", "method").iter_rows())
    assert methods["a@40"] == "short_form" and methods["b@0"] == "name"


def test_full_names_merge_across_articles_and_spellings(aliases):
    result = link(
        [
            mention("a", 0, "Oleh Petrenko", "PER"),
            mention("b", 0, "Oleh PETRENKO", "PER"),
            mention("c", 0, "Olehh Petrenko", "PER"),
        ],
        aliases,
    )
    ids = dict(result.links.select("mention_id", "entity_id").iter_rows())
    assert ids["a@0"] == ids["b@0"] != ids["c@0"]


def test_ambiguous_surname_in_one_article_is_left_alone(aliases):
    result = link(
        [
            mention("a", 0, "Oleh Petrenko", "PER"),
            mention("a", 20, "Iryna Petrenko", "PER"),
            mention("a", 40, "Petrenko", "PER"),
        ],
        aliases,
    )
    by = entity_of(result)
    assert by["a@40"] == "Petrenko" and by["a@0"] != by["a@20"]


def test_surname_mislabelled_as_place_joins_the_person_but_places_stay_places(aliases):
    result = link(
        [
            mention("a", 0, "Volodymyr Zelensky", "PER"),
            mention("a", 30, "Zelensky", "LOC"),  # "città natale di Zelensky"
            mention("a", 50, "Volodymyr", "LOC"),  # a given name alone, not labelled PER: not enough
            mention("a", 70, "Kursk", "LOC"),
        ],
        aliases,
    )
    by = entity_of(result)
    assert by["a@30"] == "Volodymyr Zelensky"
    assert by["a@50"] == "Volodymyr" and by["a@70"] == "Kursk"
    reason = result.links.filter(mention_id="a@30")["reason"][0]
    assert "NER labelled it LOC" in reason


def test_cross_lingual_aliases_and_government_metonyms(aliases):
    result = link(
        [
            mention("it", 0, "Mosca", "LOC"),
            mention("it", 10, "Corea del Nord", "ORG"),
            mention("it", 30, "Seul", "ORG"),
            mention("de", 0, "Moskau", "LOC"),
            mention("de", 10, "Nordkorea", "LOC"),
            mention("en", 0, "Moscow", "ORG"),
            mention("en", 10, "North Korea", "LOC"),
            mention("en", 30, "Seoul", "LOC"),
            mention("en", 40, "Pyongyang", "ORG"),
        ],
        aliases,
    )
    by = entity_of(result)
    assert by["it@0"] == by["de@0"] == by["en@0"] == "Moscow"
    assert by["it@10"] == by["de@10"] == by["en@10"] == "North Korea"
    assert by["it@30"] == by["en@30"] == "Seoul"
    entities = result.entities.to_dicts()
    stands = {e["name"]: e["stands_for"] for e in entities}
    north_korea = entity_id("alias:north-korea")
    assert stands["Pyongyang"] == north_korea and stands["North Korea"] is None
    assert {e["entity_id"] for e in entities} >= {north_korea, entity_id("alias:russia")}  # what metonyms stand for


def test_alias_respects_labels(aliases):
    result = link(
        [mention("a", 0, "Roma", "ORG"), mention("b", 0, "Roma", "LOC"), mention("c", 0, "Italia", "PER")], aliases
    )
    by = entity_of(result)
    assert by["b@0"] == "Rome"
    assert by["a@0"] == "Roma" and by["c@0"] == "Italia"  # the football club; a person called Italia


def test_fragments_split_by_ner_are_joined_only_into_a_listed_name(aliases):
    result = link(
        [
            mention("a", 0, "Corea del", "LOC"),
            mention("a", 10, "Nord", "ORG"),
            mention("a", 40, "Corea del", "LOC"),
            mention("a", 50, "Sud", "ORG"),
            mention("a", 60, "Milano", "LOC"),
            mention("a", 67, "Torino", "LOC"),  # adjacent, but "Milano Torino" names nothing
            mention("a", 80, "Corea del", "LOC", sentence=1),
            mention("a", 90, "Nord", "ORG", sentence=2),  # different sentences
        ],
        aliases,
    )
    by = entity_of(result)
    assert by["a@0"] == by["a@10"] == "North Korea"
    assert by["a@40"] == by["a@50"] == "South Korea"
    assert by["a@60"] == "Milano" and by["a@67"] == "Torino"
    assert by["a@80"] == "Corea del" and by["a@90"] == "Nord"


def test_one_entity_per_name_whatever_the_label_typed_by_the_majority(aliases):
    result = link(
        [
            mention("a", 0, "Valmora", "ORG"),
            mention("a", 10, "Valmora", "LOC"),
            mention("a", 20, "Valmora", "LOC"),
            mention("b", 0, "Valmora", "PER"),
        ],
        aliases,
    )
    ids = set(result.links["entity_id"])
    assert ids == {entity_id("name:valmora")}
    assert result.entities.filter(entity_id=entity_id("name:valmora"))["type"].to_list() == ["LOC"]


def test_ids_are_stable_and_do_not_depend_on_the_other_articles(aliases):
    a = [
        mention("a", 0, "Volodymyr Zelensky", "PER"),
        mention("a", 30, "Zelensky", "PER"),
        mention("a", 40, "Valmora", "LOC"),
    ]
    b = [mention("b", 0, "Zelensky", "PER"), mention("b", 20, "Valmora", "ORG")]
    alone = link(a, aliases).links
    together = link(a + b, aliases).links.filter(article_id="a")
    assert alone.equals(together)
    assert alone["entity_id"].to_list() == link(a, aliases).links["entity_id"].to_list()


def test_preferred_name_is_a_full_spelling_and_a_stored_name_is_kept(aliases):
    rows = [mention("a", 0, "Oleh Petrenko", "PER")] + [mention("a", 20 + 10 * i, "Petrenko", "PER") for i in range(3)]
    result = link(rows, aliases)
    assert result.entities["name"].to_list() == ["Oleh Petrenko"]
    stored = result.entities.with_columns(name=pl.lit("O. Petrenko"))
    assert link([mention("b", 0, "OLEH PETRENKO", "PER")], aliases, existing=stored).entities["name"].to_list() == [
        "O. Petrenko"
    ]


def test_mention_without_a_name_is_quarantined_not_linked(aliases):
    result = link([mention("a", 0, "'", "LOC"), mention("a", 5, "Kursk", "LOC")], aliases)
    assert result.links["mention_id"].to_list() == ["a@5"]
    assert result.quarantine.select("item_id", "stage", "reason").rows() == [("a@0", "link", "no_name")]


def override(n: int, action: str, entity: str, target: str, **selector) -> dict:
    return {
        "override_id": f"o{n}",
        "action": action,
        "entity_id": entity,
        "target_id": target,
        "name_key": selector.get("name_key"),
        "article_id": selector.get("article_id"),
        "mention_id": selector.get("mention_id"),
        "note": None,
        "created_at": T0 + timedelta(minutes=n),
    }


def test_overrides_merge_then_split_in_the_order_made(aliases):
    rows = [
        mention("a", 0, "Zelensky", "PER"),
        mention("b", 0, "Volodymyr Zelensky", "PER"),
        mention("c", 0, "Zelensky", "PER"),
        mention("d", 0, "Oleksandr Zelensky", "PER"),
    ]
    volodymyr, bare, oleksandr = (
        entity_id(k) for k in ("alias:volodymyr-zelensky", "name:zelensky", "name:oleksandr zelensky")
    )
    overrides = pl.DataFrame(
        [
            override(1, "merge", bare, volodymyr),  # bare "Zelensky" means him in this corpus...
            override(2, "split", volodymyr, oleksandr, article_id="c"),  # ...except in article c
        ],
        schema=ENTITY_OVERRIDES,
    )
    links = link(rows, aliases, overrides).links
    got = dict(links.select("mention_id", "entity_id").iter_rows())
    assert got == {"a@0": volodymyr, "b@0": volodymyr, "c@0": oleksandr, "d@0": oleksandr}
    moved = dict(links.select("mention_id", "override_id").iter_rows())
    assert moved == {"a@0": "o1", "b@0": None, "c@0": "o2", "d@0": None}
    assert (links["rule_entity_id"] == links["entity_id"]).to_list() == [False, True, False, True]


def test_merge_chains_resolve_and_cycles_are_ignored(aliases):
    rows = [mention("a", 0, "Alpha", "ORG"), mention("b", 0, "Beta", "ORG"), mention("c", 0, "Gamma", "ORG")]
    alpha, beta, gamma = (entity_id(f"name:{n}") for n in ("alpha", "beta", "gamma"))
    overrides = pl.DataFrame(
        [override(1, "merge", alpha, beta), override(2, "merge", beta, gamma), override(3, "merge", gamma, alpha)],
        schema=ENTITY_OVERRIDES,
    )
    assert set(link(rows, aliases, overrides).links["entity_id"]) == {gamma}


def test_split_by_surface_moves_only_that_spelling(aliases):
    rows = [mention("a", 0, "Kiev", "LOC"), mention("a", 10, "Kyiv", "LOC"), mention("b", 0, "Kiew", "LOC")]
    kyiv, other = entity_id("alias:kyiv"), entity_id("analyst:LOC:kiev")
    overrides = pl.DataFrame([override(1, "split", kyiv, other, name_key="kiev")], schema=ENTITY_OVERRIDES)
    got = dict(link(rows, aliases, overrides).links.select("mention_id", "entity_id").iter_rows())
    assert got == {"a@0": other, "a@10": kyiv, "b@0": kyiv}


def test_user_alias_files_extend_the_builtin_list(tmp_path):
    yaml_file = tmp_path / "more.yaml"
    yaml_file.write_text(
        "entities:\n"
        "  - {id: kyiv, aliases: [Kyjiv]}\n"  # extends a built-in entry
        "  - {id: valmora-dam, type: ORG, name: Valmora Dam, aliases: [Diga di Valmora], labels: [ORG, LOC]}\n",
        encoding="utf-8",
    )
    csv_file = tmp_path / "more.csv"
    csv_file.write_text(
        "id,type,name,alias,stands_for\n"
        "zelensky-bare,PER,Volodymyr Zelensky,Zelensky,\n"
        "valmora,LOC,Valmora,Valmora City,\n"
        "valmora-town-hall,LOC,Valmora Town Hall,Municipio di Valmora,valmora\n",
        encoding="utf-8",
    )
    extended = load_aliases([yaml_file, csv_file])
    assert "Kyjiv" in extended.entries["kyiv"].aliases and "Kiev" in extended.entries["kyiv"].aliases
    assert extended.entries["valmora-town-hall"].stands_for == "valmora"
    assert extended.fingerprint != load_aliases([]).fingerprint
    result = link([mention("a", 0, "Kyjiv", "LOC"), mention("b", 0, "Diga di Valmora", "LOC")], extended)
    assert entity_of(result) == {"a@0": "Kyiv", "b@0": "Valmora Dam"}
    assert load_aliases([csv_file], builtin=False).lookup("zelensky", "PER")[0].id == "zelensky-bare"


def test_demonyms_extend_entries_and_one_claimed_by_two_names_neither(tmp_path):
    yaml_file = tmp_path / "demonyms.yaml"
    yaml_file.write_text(
        "entities:\n"
        "  - {id: valmora, type: LOC, name: Valmora, demonyms: [valmorese, valmoresi]}\n"
        "  - {id: north-korea, demonyms: [Nordkoreanerin]}\n"
        "  - {id: south-korea, demonyms: [coreani]}\n"
        "  - {id: north-korea, demonyms: [coreani]}\n",
        encoding="utf-8",
    )
    csv_file = tmp_path / "demonyms.csv"
    csv_file.write_text("id,type,name,alias,demonym\npratobasso,LOC,Pratobasso,,pratobassese\n", encoding="utf-8")
    index = load_aliases([yaml_file, csv_file]).demonym_index()
    assert index["valmoresi"].id == "valmora" and index["pratobassese"].id == "pratobasso"
    assert index["nordkoreanerin"].id == index["nordcoreani"].id == "north-korea"  # built-in ones kept
    assert "coreani" not in index
    with pytest.raises(AliasFileError, match="demonyms must be a list"):
        (tmp_path / "bad.yaml").write_text("entities:\n  - {id: x, type: LOC, name: X, demonyms: xs}\n")
        load_aliases([tmp_path / "bad.yaml"])


def test_a_demonym_is_quarantined_not_linked_unless_it_also_spells_a_name(aliases):
    result = link([mention("a", 0, "Schweizer", "ORG"), mention("a", 20, "Suisse", "LOC")], aliases)
    assert entity_of(result) == {"a@20": "Switzerland"}  # "Suisse" is the country's French name too
    row = result.quarantine.row(0, named=True)
    assert (row["item_id"], row["stage"], row["reason"]) == ("a@0", "link", "demonym")
    assert "demonym of Switzerland" in row["detail"]


def test_a_spelling_listed_for_two_entries_links_to_neither(tmp_path):
    path = tmp_path / "clash.yaml"
    path.write_text(
        "entities:\n"
        "  - {id: georgia-us, type: LOC, name: Georgia (US state), aliases: [Georgia]}\n"
        "  - {id: georgia, type: LOC, name: Georgia, aliases: [Georgien]}\n",
        encoding="utf-8",
    )
    result = link([mention("a", 0, "Georgia", "LOC"), mention("a", 10, "Georgien", "LOC")], load_aliases([path]))
    got = {m: (e, how) for m, e, how in result.links.select("mention_id", "entity_id", "method").iter_rows()}
    assert got == {"a@0": (entity_id("name:georgia"), "name"), "a@10": (entity_id("alias:georgia"), "alias")}


@pytest.mark.parametrize(
    "content, message",
    [
        ("entities:\n  - {id: Bad Id, type: LOC, name: X}\n", "lowercase slug"),
        ("entities:\n  - {id: x, type: LOC}\n", "name is required"),
        ("entities:\n  - {id: x, type: loc, name: X}\n", "upper-case NER label"),
        ("entities:\n  - {id: x, type: LOC, name: X, stands_for: nowhere}\n", "stands_for 'nowhere'"),
        ("entities:\n  - {id: x, type: LOC, name: X, wikidata: Q1}\n", "unknown fields"),
        ("entities: {id: x}\n", "list under 'entities:'"),
        ("entities: [\n", "not valid YAML"),
    ],
)
def test_bad_alias_files_fail_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AliasFileError, match=message):
        load_aliases([path])


def test_missing_alias_file_and_csv_without_columns(tmp_path):
    with pytest.raises(AliasFileError, match="cannot read"):
        load_aliases([tmp_path / "nope.yaml"])
    bad = tmp_path / "bad.csv"
    bad.write_text("name,alias\nX,Y\n", encoding="utf-8")
    with pytest.raises(AliasFileError, match="lacks CSV columns"):
        load_aliases([bad])


def test_a_type_the_text_states_outranks_the_model_majority(aliases):
    result = link(
        [
            mention("a", 0, "TURIN", "LOC", label_from="dateline"),
            mention("b", 0, "Turin", "ORG"),
            mention("c", 0, "Turin", "ORG"),
        ],
        aliases,
    )
    assert result.entities.filter(entity_key="name:turin")["type"].to_list() == ["LOC"]
