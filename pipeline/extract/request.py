"""A canonical E-utilities request: what the raw store is keyed by.

The key is the sha256 of the utility and its parameters, sorted, *without*
``api_key``, ``email`` and ``tool``: who asks does not change the answer, and
the key must never depend on (or leak) a secret.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

UTILITIES = frozenset({"esearch", "esummary", "elink", "efetch", "einfo"})
# Never part of a key, a log line, a message or a stored file.
IDENTITY_PARAMS = frozenset({"api_key", "email", "tool"})


@dataclass(frozen=True, slots=True)
class EutilsRequest:
    utility: str
    params: tuple[tuple[str, str], ...]

    @classmethod
    def make(cls, utility: str, **params: str | int | None) -> EutilsRequest:
        if utility not in UTILITIES:
            raise ValueError(f"unknown E-utility {utility!r}")
        clean = tuple(
            sorted(
                (k, str(v)) for k, v in params.items() if v is not None and k not in IDENTITY_PARAMS
            )
        )
        return cls(utility, clean)

    @property
    def param_dict(self) -> dict[str, str]:
        return dict(self.params)

    @property
    def key(self) -> str:
        canonical = json.dumps([self.utility, list(self.params)], separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def describe(self, limit: int = 160) -> str:
        """``esearch db=pubmed term=...``: for messages; ids lists are shortened."""
        parts = []
        for k, v in self.params:
            if k == "id" and v.count(",") > 3:
                v = f"{v.split(',', 1)[0]},...({v.count(',') + 1} ids)"
            parts.append(f"{k}={v}")
        text = " ".join([self.utility, *parts])
        return text if len(text) <= limit else text[: limit - 3] + "..."
