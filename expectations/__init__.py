"""Great Expectations suites, one module per table, and the runner that validates them all."""

from expectations.runner import SUITES, TableResult, ValidationReport, validate_all

__all__ = ["SUITES", "TableResult", "ValidationReport", "validate_all"]
