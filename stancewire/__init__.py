"""stancewire: multilingual news → entities and stance toward claims, landed in DuckDB."""

__version__ = "0.1.0"
