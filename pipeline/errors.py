"""The one exception tree of medgen-etl.

Every error the pipeline raises on purpose derives from :class:`MedgenEtlError`.
Third-party exceptions (urllib, lxml, pyarrow, OSError) are translated where they
enter (``raise ... from exc``), so callers only ever catch these. Each class carries
the process exit status the CLI gives it (BSD ``sysexits`` where one fits); only
the CLI turns them into messages and exit codes.

    MedgenEtlError
    ├── UsageError              bad arguments or concept references      (2)
    │   └── UpdateRefusedError  bulk --update cannot carry the current snapshot forward
    │                           exactly: a full bulk is needed (2)
    ├── ConfigError             bad config file, missing NCBI_EMAIL      (78)
    ├── NcbiError               anything E-utilities answered or failed
    │   ├── TransientError      worth retrying: 429, 5xx, timeouts, resets, truncated bodies (75)
    │   │   ├── RetriesExhaustedError   the retry policy gave up             (75)
    │   │   └── InconsistentAnswerError an answer contradicting itself: asked again,
    │   │                               then refused as a ResponseFormatError (69)
    │   ├── HttpStatusError     a 4xx other than 429                     (69)
    │   ├── EutilsError         an <ERROR> body that is not transient     (69)
    │   ├── QueryTermError      ErrorList / PhraseNotFound in a search   (78)
    │   └── ResponseFormatError a body that is not the XML we expect      (69)
    ├── OfflineMissError        --offline and the raw store lacks a reply (66)
    ├── ConceptError            one concept failed (unknown CUI, <error>) (65)
    ├── PartialRunError         some concepts failed; nothing else wrong  (65)
    ├── StorageError            a file or directory could not be written or read (74);
    │   │                       ``subject`` says whose: one subclass per kind of storage
    │   ├── SnapshotError       staging, publishing or reading a snapshot (74)
    │   │   ├── ForeignPathError    the output directory holds a path medgen-etl did not make (74)
    │   │   ├── NoSnapshotError     no published snapshot where one was named (66)
    │   │   └── VerifyError         a snapshot's files differ from its manifest (65)
    │   ├── RawStoreError       the raw response store (74)
    │   │   └── RawStoreCorruptError a raw-store body that does not match its sidecar (74)
    │   ├── InputFileError      a MedGen or PubMed bulk file could not be read from disk (74)
    │   ├── DownloadError       a downloaded file could not be written, read or moved (74)
    │   └── ReportError         the HTML report could not be written (74)
    └── LockError               another run holds the output directory   (75)
"""

from __future__ import annotations


class MedgenEtlError(Exception):
    """Base of every error medgen-etl raises on purpose."""

    exit_code: int = 1


class UsageError(MedgenEtlError):
    exit_code = 2


class UpdateRefusedError(UsageError):
    """``bulk --update`` over a snapshot it cannot extend exactly (the message says why)."""


class ConfigError(MedgenEtlError):
    exit_code = 78


class NcbiError(MedgenEtlError):
    """An E-utilities request failed; ``request`` names it without secrets."""

    exit_code = 69

    def __init__(self, message: str, *, request: str | None = None) -> None:
        super().__init__(message)
        self.detail = message
        # Filled in where the request is known (the client), if the raiser did not.
        self.request = request

    def __str__(self) -> str:
        return self.detail if self.request is None else f"{self.detail} [{self.request}]"


class TransientError(NcbiError):
    """A failure that another attempt may cure."""

    exit_code = 75

    def __init__(
        self,
        message: str,
        *,
        request: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.retry_after = retry_after


class RetriesExhaustedError(TransientError):
    pass


class InconsistentAnswerError(TransientError):
    """An answer that contradicts itself or the pages before it (an esearch page
    short of its Count, repeated ids). Worth asking again; the client refuses it as a
    ResponseFormatError when the retry policy gives up."""


class HttpStatusError(NcbiError):
    def __init__(self, status: int, *, request: str | None = None) -> None:
        super().__init__(f"HTTP {status}", request=request)
        self.status = status


class EutilsError(NcbiError):
    """E-utilities answered HTTP 200 with an ``<ERROR>`` body."""


class QueryTermError(NcbiError):
    """A search term NCBI did not understand (it silently drops such terms)."""

    exit_code = 78


class ResponseFormatError(NcbiError):
    """A body that is not the XML document the request should return."""


class OfflineMissError(MedgenEtlError):
    exit_code = 66


class ConceptError(MedgenEtlError):
    exit_code = 65


class PartialRunError(MedgenEtlError):
    exit_code = 65


class StorageError(MedgenEtlError):
    """A disk failure; ``subject`` names the storage it hit (its subclass's)."""

    exit_code = 74
    subject = "storage"


class SnapshotError(StorageError):
    subject = "snapshot"


class RawStoreError(StorageError):
    subject = "raw store"


class InputFileError(StorageError):
    subject = "input file"


class DownloadError(StorageError):
    subject = "download"


class ReportError(StorageError):
    subject = "report"


class RawStoreCorruptError(RawStoreError):
    """A raw-store body whose sha256 is not the one its sidecar names."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class ForeignPathError(SnapshotError):
    """A path where the pipeline writes holds something it did not create: never replaced."""


class NoSnapshotError(SnapshotError):
    exit_code = 66


class VerifyError(SnapshotError):
    exit_code = 65


class LockError(MedgenEtlError):
    exit_code = 75
