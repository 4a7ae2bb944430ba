"""The registered-sources part of the fetch stage: sync the sources file, crawl, land documents, then fetch state
and health (in that order: a crash in between makes the next run fetch again, never lose an article)."""

from dataclasses import dataclass

from prefect.context import FlowRunContext

from stancewire.config import RunParams
from stancewire.store import Store
from tasks.crawl import crawl_sources, crawl_task
from tasks.load import load_frames, load_task
from tasks.web.fetcher import PoliteFetcher, TransferStats
from tasks.inputs.sources import load_sources_file, sources_frame, sources_from_frame


@dataclass
class RegisteredFetch:
    sources: int  # enabled sources checked
    documents: int  # new or changed documents
    failing: int  # sources whose check failed
    transfer: TransferStats


def fetch_registered(store: Store, run_id: str, params: RunParams, fetcher: PoliteFetcher | None = None) -> RegisteredFetch:
    if params.sources_file:
        store.write_sources(sources_frame(load_sources_file(params.sources_file)))
    sources = sources_from_frame(store.sources(enabled_only=True))
    if not sources:
        return RegisteredFetch(0, 0, 0, fetcher.stats if fetcher else TransferStats())
    fetcher = fetcher or PoliteFetcher(
        user_agent=params.user_agent,
        host_delay_s=params.host_delay_s,
        host_concurrency=params.host_concurrency,
        respect_robots=params.respect_robots,
        allow_private_hosts=params.allow_private_hosts,
    )
    # Outside a flow run (benchmarks, tests) the plain functions, which need no Prefect API.
    crawl, load = (crawl_task, load_task) if FlowRunContext.get() else (crawl_sources, load_frames)
    with fetcher:
        result = crawl(sources, store.fetch_state(), fetcher, allow_files=params.allow_file_sources)
    load(store, run_id, {"documents": result.documents, "quarantine": result.quarantine})
    store.write_fetch_state(result.fetch_state, run_id)
    store.record_source_health(result.health)
    failing = int((~result.health["ok"]).sum())
    return RegisteredFetch(len(sources), result.documents.height, failing, fetcher.stats)

