"""The one door to NCBI: the only module that imports ``Bio.Entrez``.

Biopython builds every request (parameters, id joining, its switch to POST for
long id lists); we own everything about sending it. ``Bio.Entrez`` is global
state, so the seam is installed under a lock for each call:

* ``Entrez.urlopen`` is replaced by :meth:`EntrezGateway._urlopen`, which
  rewrites Biopython's fixed NCBI base to the configured one and sends the
  request through :class:`HttpTransport` with a total deadline and the
  utility's body limit.
* ``Entrez.max_tries = 1``: Biopython's own loop retries 429 at once and never
  times out; the client's retry policy does that job instead.
* ``Entrez._open.previous`` is reset so Biopython's built-in 0.37 s spacing
  does not stack on top of our process-wide limiter.

These rely on Biopython internals (``urlopen`` looked up as a module global in
``Bio.Entrez._open``, the hard-coded base URL, ``_open.previous``); the pinned
range in pyproject.toml is the one ``tests/extract/test_entrez.py`` covers.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from email.message import Message
from typing import Any
from urllib.request import Request

from Bio import Entrez

from pipeline.config import BodyLimits
from pipeline.errors import NcbiError
from pipeline.extract.request import EutilsRequest
from pipeline.extract.transport import BodyLimit, HttpTransport

BIOPYTHON_BASE = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"

_LOCK = threading.Lock()
# The seam touches attributes Biopython does not export; Any says so to mypy.
_ENTREZ: Any = Entrez

_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "esearch": Entrez.esearch,
    "esummary": Entrez.esummary,
    "elink": Entrez.elink,
    "efetch": Entrez.efetch,
    "einfo": Entrez.einfo,
}


class _Handle(io.BytesIO):
    """What Biopython expects back from urlopen: a file with headers and url."""

    def __init__(self, body: bytes, headers: Message, url: str) -> None:
        super().__init__(body)
        self.headers = headers
        self.url = url


class EntrezGateway:
    """Sends one :class:`EutilsRequest` through Bio.Entrez and returns the body."""

    def __init__(
        self,
        *,
        base_url: str,
        tool: str,
        email: str | None,
        api_key: str | None,
        timeout: float,
        limits: BodyLimits,
        transport: HttpTransport | None = None,
    ) -> None:
        self._base = base_url if base_url.endswith("/") else base_url + "/"
        self._identity = {"tool": tool, "email": email, "api_key": api_key}
        self._timeout = timeout
        self._limits = limits
        self._transport = transport or HttpTransport()

    def call(self, request: EutilsRequest) -> bytes:
        params: dict[str, Any] = request.call_params()
        params.update({k: v for k, v in self._identity.items() if v})
        function = _FUNCTIONS[request.utility]
        limit = BodyLimit(*self._limits.for_utility(request.utility))

        def urlopen(built: Request) -> _Handle:
            return self._urlopen(built, limit)

        with _LOCK:
            saved = (_ENTREZ.urlopen, _ENTREZ.max_tries)
            _ENTREZ.urlopen = urlopen
            _ENTREZ.max_tries = 1
            _ENTREZ._open.previous = 0.0
            try:
                handle = function(**params)
                body = handle.read()
            finally:
                _ENTREZ.urlopen, _ENTREZ.max_tries = saved
        return body.encode("utf-8") if isinstance(body, str) else bytes(body)

    def _urlopen(self, request: Request, limit: BodyLimit) -> _Handle:
        url = request.full_url
        if not url.startswith(BIOPYTHON_BASE):
            # Biopython changed how it builds URLs: the seam no longer holds.
            raise NcbiError("Bio.Entrez built a URL outside the E-utilities base")
        url = self._base + url[len(BIOPYTHON_BASE) :]
        data = request.data if isinstance(request.data, bytes) else None
        response = self._transport.send(
            request.get_method(), url, data, timeout=self._timeout, limit=limit
        )
        return _Handle(response.body, response.headers, response.url)
