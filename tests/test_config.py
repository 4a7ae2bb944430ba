"""Run parameters: grouped, completed from the deployment's settings in one place, dangerous switches kept out of
the run form."""

import pytest
from prefect.utilities.callables import parameter_schema
from pydantic import ValidationError

from flows.pipeline import stancewire_pipeline
from stancewire.config import FetchOptions, RunParams, build_params


def test_the_run_form_has_one_section_per_group_and_no_dangerous_switch():
    schema = parameter_schema(stancewire_pipeline.fn).model_dump()
    definitions = schema["definitions"]
    assert set(definitions["RunParams"]["properties"]) == {"fetch", "inputs", "models", "store"}
    fetch_fields = set(definitions["FetchOptions"]["properties"])
    assert {"sources", "respect_robots", "host_delay_s", "fetch_budget_s"} <= fetch_fields
    assert not {"allow_private_hosts", "allow_file_sources"} & fetch_fields


def test_dangerous_switches_come_from_the_deployment_whatever_the_parameters_say(monkeypatch):
    asked = RunParams(fetch=FetchOptions(allow_private_hosts=True, allow_file_sources=True))
    monkeypatch.setenv("STANCEWIRE_ALLOW_FILE_SOURCES", "false")
    built = build_params(asked)
    assert (built.fetch.allow_private_hosts, built.fetch.allow_file_sources) == (False, False)
    monkeypatch.setenv("STANCEWIRE_ALLOW_PRIVATE_HOSTS", "true")
    assert build_params(RunParams()).fetch.allow_private_hosts is True


def test_empty_fields_take_the_deployments_defaults_and_given_ones_win(monkeypatch):
    monkeypatch.setenv("STANCEWIRE_DB_PATH", "/srv/news/store.duckdb")
    monkeypatch.setenv("STANCEWIRE_NER_MODEL", "org/ner")
    built = build_params(overrides={"models": {"device": "cpu"}})
    assert (built.store.db_path, built.models.ner.id, built.models.device) == (
        "/srv/news/store.duckdb",
        "org/ner",
        "cpu",
    )
    assert RunParams().store.db_path is None  # nothing is read from the environment until build_params runs


def test_the_store_memory_cap_comes_from_the_deployment_and_nonsense_is_refused(monkeypatch):
    assert build_params().store.memory_limit is None  # DuckDB's own default
    monkeypatch.setenv("STANCEWIRE_DB_MEMORY_LIMIT", "4GB")
    assert build_params().store.memory_limit == "4GB"
    assert build_params(overrides={"store": {"memory_limit": "512MB"}}).store.memory_limit == "512MB"
    with pytest.raises(ValidationError, match="memory_limit"):
        build_params(overrides={"store": {"memory_limit": "lots"}})
