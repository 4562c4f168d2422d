"""The type stubs of the extension list exactly what it exports, and every public object
has a docstring."""

from __future__ import annotations

import ast
import inspect as pyinspect
from pathlib import Path

import sigmalang
from sigmalang import _native
from sigmalang.core import streaming_encoder


def stub_names() -> tuple[set[str], dict[str, set[str]]]:
    stub = Path(_native.__file__).with_name("_native.pyi")
    tree = ast.parse(stub.read_text())
    top: set[str] = set()
    members: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if not node.target.id.startswith("_") or node.target.id == "__version__":
                top.add(node.target.id)
        if isinstance(node, ast.ClassDef):
            members[node.name] = {
                n.name for n in node.body if isinstance(n, ast.FunctionDef) and n.name != "__init__"
            }
    return top, members


def test_stub_matches_the_extension():
    top, members = stub_names()
    exported = {n for n in dir(_native) if not n.startswith("_")} | {"__version__"}
    assert top == exported
    for cls, names in members.items():
        public = {n for n in dir(getattr(_native, cls)) if not n.startswith("_")}
        assert names == public, cls


def test_public_api_is_documented():
    for name in sigmalang.__all__:
        obj = getattr(sigmalang, name)
        if name == "__version__":
            continue
        assert pyinspect.getdoc(obj), name
    for cls in (streaming_encoder.StreamingEncoder, streaming_encoder.StreamingDecoder):
        for name, member in vars(cls).items():
            if not name.startswith("_") and callable(member):
                assert pyinspect.getdoc(member), f"{cls.__name__}.{name}"
