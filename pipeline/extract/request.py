"""A canonical E-utilities request: what the raw store is keyed by.

The key is the sha256 of the utility and its parameters, sorted, *without*
``api_key``, ``email`` and ``tool``: who asks does not change the answer, and
the key must never depend on (or leak) a secret.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

UTILITIES = frozenset({"esearch", "esummary", "elink", "efetch", "einfo"})
# Never part of a key, a log line, a message or a stored file.
IDENTITY_PARAMS = frozenset({"api_key", "email", "tool"})


@dataclass(frozen=True, slots=True)
class EutilsRequest:
    utility: str
    params: tuple[tuple[str, str], ...]

    @classmethod
    def make(cls, utility: str, **params: str | int | Sequence[str | int] | None) -> EutilsRequest:
        """A list value is sent as a repeated parameter (``id=1&id=2``): for elink,
        one link per id, where ``id=1,2`` would merge the ids' links into one set."""
        if utility not in UTILITIES:
            raise ValueError(f"unknown E-utility {utility!r}")
        pairs = [
            (k, str(item))
            for k, v in params.items()
            if v is not None and k not in IDENTITY_PARAMS
            for item in (v if isinstance(v, list | tuple) else [v])
        ]
        return cls(utility, tuple(sorted(pairs)))

    @property
    def param_dict(self) -> dict[str, str]:
        """For messages and the raw store's index: a repeated parameter comma-joined."""
        out: dict[str, str] = {}
        for k, v in self.params:
            out[k] = f"{out[k]},{v}" if k in out else v
        return out

    def call_params(self) -> dict[str, str | list[str]]:
        """What the gateway sends: a repeated parameter as a list."""
        out: dict[str, str | list[str]] = {}
        for k, v in self.params:
            held = out.get(k)
            out[k] = v if held is None else [*([held] if isinstance(held, str) else held), v]
        return out

    @property
    def key(self) -> str:
        canonical = json.dumps([self.utility, list(self.params)], separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def describe(self, limit: int = 160) -> str:
        """``esearch db=pubmed term=...``: for messages; ids lists are shortened."""
        parts = []
        for k, v in self.param_dict.items():
            if k == "id" and v.count(",") > 3:
                v = f"{v.split(',', 1)[0]},...({v.count(',') + 1} ids)"
            parts.append(f"{k}={v}")
        text = " ".join([self.utility, *parts])
        return text if len(text) <= limit else text[: limit - 3] + "..."
