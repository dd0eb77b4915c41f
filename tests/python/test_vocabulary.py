"""The stub python/capgap/_core.pyi against the module: the vocabularies (enum members, ingest
counters) come from one C++ table each, and the stub, which cannot import C++, must list the
same names in the same order."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from capgap import _core

STUB = Path(__file__).resolve().parents[2] / "python" / "capgap" / "_core.pyi"


def _stub_class(name: str) -> ast.ClassDef:
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise AssertionError(f"class {name} not in {STUB}")


def _annotated(cls: ast.ClassDef, annotation: str) -> list[str]:
    """Names of the class attributes `name: <annotation>`, in stub order."""
    return [
        node.target.id
        for node in cls.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and ast.unparse(node.annotation) == annotation
    ]


@pytest.mark.parametrize("enum", ["Direction", "SessionCategory", "EventKind", "Mode"])
def test_stub_lists_every_enum_member(enum: str) -> None:
    members = _annotated(_stub_class(enum), f"ClassVar[{enum}]")
    assert members == list(getattr(_core, enum).__members__)


def test_stub_lists_every_ingest_counter() -> None:
    counters = _annotated(_stub_class("IngestStats"), "int")
    assert counters == list(_core.IngestStats().counters())
