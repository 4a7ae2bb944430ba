"""Reading the analysts' YAML files safely: bounded size, no aliases (a few lines of anchors can expand to billions
of items, the "billion laughs"), and errors that say where without echoing the file's content."""

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

MAX_BYTES = 5_000_000  # far above any claims, alias or sources file written by hand


class _NoAliases(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in this file", mark)
        return super().compose_node(parent, index)


def parse_yaml(text: str) -> Any:
    """The document in `text`; yaml.YAMLError when it is not YAML, holds an alias, or is larger than MAX_BYTES."""
    if len(text) > MAX_BYTES:
        raise yaml.YAMLError(f"larger than {MAX_BYTES:,} characters")
    return yaml.load(text, Loader=_NoAliases)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: Path) -> Any:
    """The document in the file; OSError or UnicodeDecodeError when unreadable, yaml.YAMLError as parse_yaml."""
    if path.stat().st_size > MAX_BYTES:
        raise yaml.YAMLError(f"larger than {MAX_BYTES:,} bytes")
    return parse_yaml(path.read_text(encoding="utf-8"))


def yaml_problem(exc: yaml.YAMLError) -> str:
    """What is wrong and where (line, column), without the file's text."""
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


def validation_problems(exc: ValidationError) -> str:
    """Each invalid field as `where: what`, without the offending values."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
