from pipeline.extract.request import EutilsRequest


def test_request_key_ignores_identity_parameters():
    plain = EutilsRequest.make("einfo", db="pubmed")
    with_identity = EutilsRequest.make(
        "einfo", db="pubmed", api_key="SECRET", email="a@b.org", tool="x"
    )
    assert plain.key == with_identity.key
    assert "SECRET" not in repr(with_identity)


def test_request_key_does_not_depend_on_parameter_order():
    a = EutilsRequest.make("esearch", db="pubmed", term="x", retmax=5)
    b = EutilsRequest.make("esearch", retmax=5, term="x", db="pubmed")
    assert a.key == b.key


def test_request_key_changes_with_any_parameter():
    a = EutilsRequest.make("esearch", db="pubmed", term="x", retstart=0)
    b = EutilsRequest.make("esearch", db="pubmed", term="x", retstart=20)
    assert a.key != b.key


def test_request_drops_none_parameters():
    assert EutilsRequest.make("esearch", db="medgen", term="x", WebEnv=None).param_dict == {
        "db": "medgen",
        "term": "x",
    }


def test_describe_shortens_long_id_lists():
    ids = ",".join(str(i) for i in range(1000, 1300))
    text = EutilsRequest.make("efetch", db="pubmed", id=ids).describe()
    assert "(300 ids)" in text
    assert len(text) <= 160
