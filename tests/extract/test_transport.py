"""HTTP failures become messages that say what failed, naming the host."""

import socket

import pytest

from pipeline.errors import TransientError
from pipeline.extract.transport import HttpTransport, connection_failure


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_name_that_does_not_resolve_is_named_in_the_message():
    error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    message = connection_failure(error, "eutils.example.invalid", None)
    assert message == "cannot resolve host eutils.example.invalid (Name or service not known)"


def test_a_refused_connection_names_the_host_and_port():
    port = closed_port()
    with pytest.raises(TransientError) as info:
        HttpTransport().send("GET", f"http://127.0.0.1:{port}/einfo.fcgi", None, timeout=2.0)
    assert str(info.value) == f"connection to 127.0.0.1:{port} refused (nothing listening there?)"


def test_any_other_socket_failure_still_names_where_it_went():
    error = OSError(101, "Network is unreachable")
    message = connection_failure(error, "eutils.ncbi.nlm.nih.gov", 443)
    expected = "connection to eutils.ncbi.nlm.nih.gov:443 failed: OSError: Network is unreachable"
    assert message == expected
