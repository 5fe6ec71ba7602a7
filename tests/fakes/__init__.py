"""Test doubles for the project's outside world: a loopback fake of NCBI E-utilities."""

from tests.fakes.dataset import Dataset, FakeConcept, StoredArticle, pub_date_key, pubmed_article
from tests.fakes.eutils_server import FakeEutils, Fault, RecordedRequest, Reply

__all__ = [
    "Dataset",
    "FakeConcept",
    "FakeEutils",
    "Fault",
    "RecordedRequest",
    "Reply",
    "StoredArticle",
    "pub_date_key",
    "pubmed_article",
]
