"""Faster construction of the frozen records built by the million in a bulk run.

A frozen dataclass's ``__init__`` sets each field through
``object.__setattr__`` (its own ``__setattr__`` refuses): about 1 us for an
``Author``, ten of which a PubMed record holds. ``quick_constructor`` makes,
once per class, a function with the same parameters and defaults that
sets each slot through its descriptor instead: the same object, equal to what
the class gives (tests/test_records.py checks every class it serves), in less
than half the time. The source is generated as ``dataclasses`` generates
``__init__`` itself; mypy sees the class's own signature (ParamSpec).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def quick_constructor(cls: Callable[P, T]) -> Callable[P, T]:
    """``cls``'s constructor, same parameters; ``cls`` must be a frozen, slotted
    dataclass with plain defaults (no default_factory) and no ``__post_init__``."""
    if not (dataclasses.is_dataclass(cls) and isinstance(cls, type)):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not hasattr(cls, "__slots__") or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} needs slots=True and no __post_init__")
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    params, body = [], []
    for i, f in enumerate(dataclasses.fields(cls)):
        if f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name} has a default_factory")
        namespace[f"_set{i}"] = getattr(cls, f.name).__set__
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            namespace[f"_default{i}"] = f.default
            params.append(f"{f.name}=_default{i}")
        body.append(f"    _set{i}(self, {f.name})")
    source = f"def make({', '.join(params)}):\n    self = _new(_cls)\n"
    source += "\n".join(body) + "\n    return self\n"
    exec(source, namespace)
    made: Callable[P, T] = namespace["make"]
    made.__qualname__ = made.__name__ = f"quick_{cls.__name__}"
    return made
