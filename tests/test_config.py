from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["pipeline.toml", "categories.toml"])
def test_packaged_defaults_are_identical_to_the_repository_config(name):
    assert (ROOT / "pipeline" / "defaults" / name).read_bytes() == (
        ROOT / "config" / name
    ).read_bytes()


def test_default_categories_are_the_page_headings_in_page_order():
    s = load_settings(env={})
    assert [(c.name, c.heading, c.term) for c in s.categories] == [
        (
            "professional_guidelines",
            "Professional guidelines",
            "(guideline[pt] OR practice guideline[pt])",
        ),
        ("etiology", "Etiology", "Etiology/Broad[filter]"),
        ("diagnosis", "Diagnosis", "Diagnosis/Broad[filter]"),
        ("therapy", "Therapy", "Therapy/Broad[filter]"),
        ("prognosis", "Prognosis", "Prognosis/Broad[filter]"),
        (
            "clinical_prediction_guides",
            "Clinical prediction guides",
            "Clinical Prediction Guides/Broad[filter]",
        ),
        ("systematic_reviews", "Recent systematic reviews", "systematic[sb]"),
    ]


def test_precedence_is_file_then_environment_then_flags(tmp_path):
    cfg = tmp_path / "p.toml"
    cfg.write_text('[ncbi]\neutils_url = "http://file.example/"\ntimeout = 5\n')
    s = load_settings(config_file=cfg, env={})
    assert (s.eutils_url, s.timeout) == ("http://file.example/", 5.0)
    s = load_settings(config_file=cfg, env={"NCBI_EUTILS_URL": "http://127.0.0.1:9/"})
    assert s.eutils_url == "http://127.0.0.1:9/"
    s = load_settings(config_file=cfg, env={}, overrides={"timeout": 2.0})
    assert s.timeout == 2.0


def test_empty_api_key_counts_as_unset():
    s = load_settings(env={"NCBI_API_KEY": "  "})
    assert s.api_key is None
    assert s.requests_per_second == 3.0


def test_api_key_raises_the_rate_and_never_prints():
    s = load_settings(env={"NCBI_API_KEY": "abc123secret"})
    assert s.requests_per_second == 10.0
    assert "abc123secret" not in repr(s)
    assert "abc123secret" not in str(s.api_key)


def test_missing_email_is_a_clear_config_error():
    with pytest.raises(ConfigError, match="NCBI_EMAIL"):
        load_settings(env={"NCBI_EMAIL": ""}).require_email()


def test_api_key_in_a_config_file_is_refused(tmp_path):
    cfg = tmp_path / "p.toml"
    cfg.write_text('[ncbi]\napi_key = "x"\n')
    with pytest.raises(ConfigError, match="NCBI_API_KEY"):
        load_settings(config_file=cfg, env={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[ncbi]\ntimeout = 'slow'\n", "wrong type"),
        ("[nope]\nx = 1\n", "unknown section"),
        ("[ncbi]\ntimout = 3\n", "unknown key ncbi.timout"),
        ("[ncbi\n", "not valid TOML"),
        ("[limits]\nefetch_bytes = 0\n", "limits.efetch_bytes must be at least 1 byte"),
        ("[limits]\nesearch_bytes = -5\n", "limits.esearch_bytes must be at least 1 byte"),
        ("[limits]\nefetch_bytes = 1.5\n", "limits.efetch_bytes has the wrong type"),
        ("[limits]\nepost_bytes = 10\n", "unknown key limits.epost_bytes"),
    ],
)
def test_bad_config_files_name_what_is_wrong(tmp_path, text, message):
    cfg = tmp_path / "p.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(config_file=cfg, env={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[category]]\nname = "../x"\nheading = "X"\nterm = "t"\n', "must match"),
        ('[[category]]\nname = "a"\nheading = "X"\n', "'term' must be"),
        ("", "one or more"),
    ],
)
def test_bad_categories_files_name_what_is_wrong(tmp_path, text, message):
    cats = tmp_path / "c.toml"
    cats.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(categories_file=cats, env={})


def test_body_limits_default_per_utility_and_a_file_may_change_one(tmp_path):
    defaults = load_settings(env={}).limits
    assert defaults.for_utility("efetch") == (256 << 20, "limits.efetch_bytes")
    assert defaults.for_utility("esearch") == (16 << 20, "limits.esearch_bytes")
    cfg = tmp_path / "p.toml"
    cfg.write_text("[limits]\nefetch_bytes = 1_000_000\n")
    changed = load_settings(config_file=cfg, env={}).limits
    assert (changed.efetch_bytes, changed.esummary_bytes) == (1_000_000, defaults.esummary_bytes)


def test_the_shared_rate_limit_lives_in_the_users_cache_unless_configured(tmp_path):
    cache = load_settings(env={"XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}).rate_limit_dir
    assert cache == Path("/xdg/medgen-etl")
    home = load_settings(env={"XDG_CACHE_HOME": "relative", "HOME": "/home/u"}).rate_limit_dir
    assert home == Path("/home/u/.cache/medgen-etl")  # a relative XDG path is ignored
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[ncbi]\nrate_limit_dir = "{tmp_path / "rates"}"\n')
    configured = load_settings(config_file=cfg, env={"XDG_CACHE_HOME": "/xdg"})
    assert configured.rate_limit_dir == tmp_path / "rates"
