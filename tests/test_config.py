import dataclasses
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.extract.retry import RetryPolicy
from tests.support import retry_policy

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
        ("[ncbi]\ntimeout = " + "9" * 5000 + "\n", "not valid TOML"),
        ("[limits]\nefetch_bytes = 0\n", r"limits\.efetch_bytes = 0 is out of range"),
        ("[limits]\nesearch_bytes = -5\n", r"limits\.esearch_bytes = -5 is out of range"),
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


LOOPBACK = {"NCBI_EUTILS_URL": "http://127.0.0.1:9/"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[ncbi]\nrate_limit = 1e-9\n", r"ncbi\.rate_limit = 1e-09 is out of range"),
        ("[ncbi]\nrate_limit = 0\n", r"ncbi\.rate_limit = 0\.0 is out of range"),
        ("[ncbi]\nrate_limit = -3\n", r"ncbi\.rate_limit = -3\.0 is out of range"),
        ("[ncbi]\nrate_limit = nan\n", r"ncbi\.rate_limit = nan is not a finite number"),
        ("[ncbi]\nrate_limit = 50000\n", r"ncbi\.rate_limit = 50000\.0 is out of range"),
        ("[ncbi]\nrate_limit_with_key = inf\n", "rate_limit_with_key = inf is not a finite"),
        ("[ncbi]\nrate_limit = true\n", r"ncbi\.rate_limit has the wrong type"),
        ("[ncbi]\nrate_limit = '3'\n", r"ncbi\.rate_limit has the wrong type"),
        ("[ncbi]\ntimeout = 0\n", r"ncbi\.timeout = 0\.0 is out of range: must be greater than 0"),
        ("[ncbi]\ntimeout = nan\n", r"ncbi\.timeout = nan is not a finite number"),
        ("[ncbi]\ntimeout = inf\n", r"ncbi\.timeout = inf is not a finite number"),
        ("[ncbi]\ntimeout = -inf\n", r"ncbi\.timeout = -inf is not a finite number"),
        ("[ncbi]\ntimeout = 1e300\n", r"ncbi\.timeout = 1e\+300 is out of range"),
        ("[retry]\nmax_attempts = 0\n", r"retry\.max_attempts = 0 is out of range"),
        ("[retry]\nmax_attempts = 3.0\n", r"retry\.max_attempts has the wrong type"),
        ("[retry]\nmax_attempts = 99999999999999999999\n", "max_attempts = 9+ is out of range"),
        ("[retry]\ninitial_wait = -1\n", r"retry\.initial_wait = -1 is out of range"),
        ("[retry]\ninitial_wait = nan\n", r"retry\.initial_wait = nan is not a finite"),
        ("[retry]\nmax_wait = -0.5\n", r"retry\.max_wait = -0\.5 is out of range"),
        ("[retry]\nmax_wait = 0.5\n", r"retry\.max_wait = 0\.5 is less than retry\.initial_wait"),
        ("[retry]\nmax_retry_after = inf\n", r"retry\.max_retry_after = inf is not a finite"),
        ("[retry]\njitter = -1\n", r"retry\.jitter = -1 is out of range"),
        ("[retry]\njitter = false\n", r"retry\.jitter has the wrong type"),
        ("[extract]\nsearch_page_size = 0\n", r"extract\.search_page_size = 0 is out of range"),
        ("[extract]\nsearch_page_size = 10000\n", "search_page_size = 10000 is out of range"),
        ("[extract]\nefetch_batch_size = 10001\n", "efetch_batch_size = 10001 is out of range"),
        ("[extract]\nefetch_batch_size = 1.5\n", "efetch_batch_size has the wrong type"),
    ],
)
def test_every_number_of_a_config_file_is_checked_naming_the_key_and_the_file(
    tmp_path, text, message
):
    cfg = tmp_path / "p.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings(config_file=cfg, env=LOOPBACK)
    assert str(raised.value).startswith(f"{cfg}: ")


@pytest.mark.parametrize(
    ("text", "env"),
    [
        ("[ncbi]\nrate_limit = 0.1\n", {}),
        ("[ncbi]\nrate_limit = 3\nrate_limit_with_key = 10\n", {}),
        ("[ncbi]\nrate_limit = 10000\n", LOOPBACK),
        ("[ncbi]\ntimeout = 3600\n", {}),
        ("[retry]\nmax_attempts = 1\ninitial_wait = 0\nmax_wait = 0\njitter = 0\n", {}),
        ("[extract]\nsearch_page_size = 1\nefetch_batch_size = 10000\n", {}),
    ],
)
def test_numbers_at_the_ends_of_their_ranges_are_accepted(tmp_path, text, env):
    cfg = tmp_path / "p.toml"
    cfg.write_text(text)
    load_settings(config_file=cfg, env=env)


@pytest.mark.parametrize(("key", "value"), [("rate_limit", 3.5), ("rate_limit_with_key", 11.0)])
def test_rates_above_ncbi_limits_are_refused_for_ncbi_but_not_for_another_host(
    tmp_path, key, value
):
    cfg = tmp_path / "p.toml"
    cfg.write_text(f"[ncbi]\n{key} = {value}\n")
    with pytest.raises(ConfigError, match=f"ncbi.{key} = {value} is above NCBI's limit"):
        load_settings(config_file=cfg, env={})
    assert getattr(load_settings(config_file=cfg, env=LOOPBACK), key) == value


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timeout": float("nan")}, r"^--timeout: ncbi\.timeout = nan is not a finite number"),
        ({"timeout": float("inf")}, r"^--timeout: ncbi\.timeout = inf is not a finite number"),
        ({"rate_limit": 1e-9}, r"^--rate-limit: ncbi\.rate_limit = 1e-09 is out of range"),
        ({"search_page_size": True}, r"^--search-page-size: .* has the wrong type"),
        ({"retry": retry_policy(initial_wait=-1.0)}, r"^--retry: retry\.initial_wait = -1\.0"),
    ],
)
def test_flag_overrides_are_checked_too(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env=LOOPBACK, overrides=overrides)


def test_an_environment_url_that_is_not_http_names_the_variable():
    with pytest.raises(ConfigError, match=r"^NCBI_EUTILS_URL: ncbi\.eutils_url = 'ftp://x/'"):
        load_settings(env={"NCBI_EUTILS_URL": "ftp://x/"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[[category]]\nname = "therapy\\n"\nheading = "T"\nterm = "t"\n', "must match"),
        (b'[[category]]\nname = "Therapy"\nheading = "T"\nterm = "t"\n', "must match"),
        (
            '[[category]]\nname = "th\u00e9rapie"\nheading = "T"\nterm = "t"\n'.encode("latin-1"),
            r"not UTF-8 text \(line 2",
        ),
        (
            '[[category]]\nname = "t"\nheading = "T"\nterm = "t"\n'.encode("utf-16"),
            "not UTF-8 text",
        ),
    ],
)
def test_bad_categories_files_are_config_errors_naming_the_file(tmp_path, data, message):
    cats = tmp_path / "c.toml"
    cats.write_bytes(data)
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings(categories_file=cats, env={})
    assert str(cats) in str(raised.value)


def test_a_categories_file_with_a_byte_order_mark_reads(tmp_path):
    cats = tmp_path / "c.toml"
    cats.write_text('\ufeff[[category]]\nname = "therapy"\nheading = "Therapy"\nterm = "t"\n')
    assert [c.name for c in load_settings(categories_file=cats, env={}).categories] == ["therapy"]


@pytest.mark.parametrize(
    ("url", "ncbi"),
    [
        ("https://eutils.ncbi.nlm.nih.gov/entrez/eutils/", True),
        ("https://EUTILS.NCBI.NLM.NIH.GOV:443/entrez/eutils/", True),
        ("http://ncbi.nlm.nih.gov./", True),
        ("https://eutils.ncbi.nlm.nih.gov.example.org/", False),
        ("https://example.org/ncbi.nlm.nih.gov/", False),
        ("http://127.0.0.1:8080/", False),
    ],
)
def test_ncbi_limits_apply_to_ncbi_hosts_only(url, ncbi):
    overrides = {"eutils_url": url, "rate_limit": 5.0}
    if ncbi:
        with pytest.raises(ConfigError, match="above NCBI's limit"):
            load_settings(env={}, overrides=overrides)
    else:
        assert load_settings(env={}, overrides=overrides).rate_limit == 5.0


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


def test_the_retry_policy_is_the_packaged_pipeline_toml_and_nothing_else(tmp_path):
    packaged = tomllib.loads(
        resources.files("pipeline").joinpath("defaults/pipeline.toml").read_text("utf-8")
    )
    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(RetryPolicy))
    assert dataclasses.asdict(load_settings(env={}).retry) == packaged["retry"]
    config = tmp_path / "pipeline.toml"
    config.write_text("[retry]\nmax_attempts = 2\n", "utf-8")
    changed = load_settings(config_file=config, env={}).retry
    assert changed == dataclasses.replace(load_settings(env={}).retry, max_attempts=2)


def test_the_ncbi_defaults_are_the_packaged_pipeline_toml():
    packaged = tomllib.loads(
        resources.files("pipeline").joinpath("defaults/pipeline.toml").read_text("utf-8")
    )["ncbi"]
    settings = load_settings(env={})
    assert (settings.rate_limit, settings.rate_limit_with_key, settings.timeout) == (
        packaged["rate_limit"],
        packaged["rate_limit_with_key"],
        packaged["timeout"],
    )
    assert (settings.eutils_url, settings.tool) == (packaged["eutils_url"], packaged["tool"])
