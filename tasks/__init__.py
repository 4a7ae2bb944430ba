"""Pipeline stages: each module holds a pure function on polars frames and its Prefect task."""
