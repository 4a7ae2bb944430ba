"""The stancewire DAG: claims → fetch → clean → NER → link → quantities → embed → stance → validate, then publish.

Each stage is a function of flows/stages.py over the store; the run's bookkeeping (run record, stage outcomes,
publish or reject, summary artifact) is flows/pipeline_run.py's.
"""

from prefect import flow

from flows import semantic, stages
from flows.batches import model_task_runner
from flows.pipeline_run import (
    InvalidParameters,
    ModelsMissing,
    PublishFailed,
    RunResult,
    ValidationFailed,
    pipeline_run,
)
from stancewire import __version__
from stancewire.config import RunParams, build_params
from tasks.validate import validate_task

__all__ = [
    "InvalidParameters",
    "ModelsMissing",
    "PublishFailed",
    "RunResult",
    "ValidationFailed",
    "stancewire_pipeline",
]


@flow(name="stancewire", version=__version__)
def stancewire_pipeline(params: RunParams = RunParams()) -> RunResult:  # noqa: B008 - the form's defaults
    """Fetch the sources, clean, find entities, score stance toward the claims, validate, publish."""
    params = build_params(params)
    with pipeline_run(params) as run:
        if params.inputs.claims_file:
            run.stage("claims", stages.claims, params.inputs)
        run.stage("fetch", stages.fetch, params.fetch)
        run.stage("clean", stages.clean, params.models.batch_size)
        with model_task_runner(params.models.dask) as runner:
            run.stage("ner", stages.ner, params.models, runner)
            run.stage("link", stages.link, params.inputs)
            run.stage("quantities", stages.quantities, params.models.batch_size, params.inputs)
            run.stage("embed", semantic.embed, params.models)
            run.stage("stance", stages.stance, params.models, runner)
        run.validate(lambda store, run_id: validate_task(store, run_id, params.store.validation))
    return run.result
