"""Configuration enters once, as a value: packaged defaults < file < environment < flags.

The packaged copies under ``pipeline/defaults/`` are the same files as the
repository's ``config/`` (a test keeps them identical), so the installed
command works from any directory. The API key is read from the environment
only and is wrapped in :class:`Secret`, whose ``repr``/``str`` never show it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline.errors import ConfigError
from pipeline.extract.retry import RetryPolicy
from pipeline.models import Category

_CATEGORY_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# The retry settings are the policy itself (its values: pipeline.toml's [retry]).
RetrySettings = RetryPolicy


# Largest body accepted per utility, in bytes (its values: pipeline.toml's [limits],
# which says why these; written there only).
@dataclass(frozen=True, slots=True)
class BodyLimits:
    esearch_bytes: int
    esummary_bytes: int
    elink_bytes: int
    efetch_bytes: int
    einfo_bytes: int

    def for_utility(self, utility: str) -> tuple[int, str]:
        """(cap in bytes, the config key that sets it) for one E-utility."""
        key = f"{utility}_bytes"
        return int(getattr(self, key)), f"limits.{key}"


@dataclass(frozen=True, slots=True)
class Settings:
    eutils_url: str
    tool: str
    email: str | None
    api_key: Secret | None
    rate_limit: float
    rate_limit_with_key: float
    timeout: float
    retry: RetryPolicy
    search_page_size: int
    efetch_batch_size: int
    elink_batch_size: int  # MedGen UIDs per elink
    # build --incremental: a full build when the last was this many days ago (0: never),
    # and how far before the current snapshot the modification-date search starts.
    full_every_days: int
    modified_margin_days: int
    out_dir: Path
    limits: BodyLimits
    categories: tuple[Category, ...] = field(default=())
    # Where processes share the E-utilities rate limit; None: this process only.
    rate_limit_dir: Path | None = None

    @property
    def requests_per_second(self) -> float:
        return self.rate_limit_with_key if self.api_key else self.rate_limit

    @property
    def categories_hash(self) -> str:
        return categories_hash(self.categories)

    def require_email(self) -> str:
        if not self.email:
            raise ConfigError(
                "NCBI_EMAIL is not set: NCBI requires a contact address on every "
                "E-utilities request (export NCBI_EMAIL=you@example.org), "
                "or use --offline to build from the raw store"
            )
        return self.email


def categories_hash(categories: tuple[Category, ...]) -> str:
    payload = json.dumps(
        [[c.name, c.heading, c.term, c.group, c.subheading] for c in categories],
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


# --------------------------------------------------------------------- reading


def _read_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or an integer of thousands of digits
        raise ConfigError(f"{origin}: not valid TOML ({exc})") from exc


def _packaged(name: str) -> str:
    return resources.files("pipeline").joinpath("defaults", name).read_text("utf-8")


def _read_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        # TOML is UTF-8; a byte-order mark some editors write is not part of the text.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}: not UTF-8 text (line {line}, byte {exc.start}: {exc.reason}); "
            "save it as UTF-8"
        ) from exc


_UTILITIES = ("esearch", "esummary", "elink", "efetch", "einfo")


@dataclass(frozen=True, slots=True)
class Bounds:
    """The values one numeric setting may take: ``low`` (excluded when ``low_open``) to ``high``."""

    attr: str  # where Settings holds it: "timeout", "retry.max_wait"
    low: float
    high: float
    unit: str
    integer: bool = False
    low_open: bool = False

    def describe(self) -> str:
        low = f"greater than {self.low:g}" if self.low_open else f"at least {self.low:g}"
        return f"{low} and at most {self.high:g} ({self.unit})"

    def admits(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high


# Every number of pipeline.toml and what it may be, checked when the configuration is
# read, before any request: a rate of 1e-9 would otherwise hang a build after its first
# request, and a NaN wait would crash one in the middle of a night. One line per key.
NUMBERS: dict[str, Bounds] = {
    # NCBI's own limits (3/s, 10/s with a key) are checked against NCBI's host below;
    # a mirror or a stand-in on another host may be asked faster.
    "ncbi.rate_limit": Bounds("rate_limit", 0.1, 10_000, "requests per second"),
    "ncbi.rate_limit_with_key": Bounds("rate_limit_with_key", 0.1, 10_000, "requests per second"),
    "ncbi.timeout": Bounds("timeout", 0, 3600, "seconds", low_open=True),
    "retry.max_attempts": Bounds("retry.max_attempts", 1, 100, "attempts", integer=True),
    "retry.initial_wait": Bounds("retry.initial_wait", 0, 3600, "seconds"),
    "retry.max_wait": Bounds("retry.max_wait", 0, 3600, "seconds"),
    "retry.max_retry_after": Bounds("retry.max_retry_after", 0, 3600, "seconds"),
    "retry.jitter": Bounds("retry.jitter", 0, 3600, "seconds"),
    # esearch serves at most 9,999 ids of one query per page; efetch at most 10,000.
    "extract.search_page_size": Bounds("search_page_size", 1, 9_999, "PMIDs", integer=True),
    "extract.efetch_batch_size": Bounds("efetch_batch_size", 1, 10_000, "PMIDs", integer=True),
    "extract.elink_batch_size": Bounds("elink_batch_size", 1, 1_000, "UIDs", integer=True),
    "incremental.full_every_days": Bounds("full_every_days", 0, 36_500, "days", integer=True),
    "incremental.modified_margin_days": Bounds(
        "modified_margin_days", 0, 365, "days", integer=True
    ),
    # The largest body accepted per utility (pipeline.toml says why the defaults).
    **{
        f"limits.{u}_bytes": Bounds(f"limits.{u}_bytes", 1, 1 << 40, "bytes", integer=True)
        for u in _UTILITIES
    },
}
# NCBI's published limits, for requests sent to NCBI itself (more earns 429s or a block
# for every user of the host): https://www.ncbi.nlm.nih.gov/books/NBK25497/
NCBI_RATE_LIMITS = {"ncbi.rate_limit": 3.0, "ncbi.rate_limit_with_key": 10.0}
NCBI_DOMAIN = "ncbi.nlm.nih.gov"

_TEXT: dict[str, dict[str, type | tuple[type, ...]]] = {
    "ncbi": {"eutils_url": str, "tool": str, "email": str, "rate_limit_dir": str},
    "output": {"dir": str},
}


def _schema() -> dict[str, dict[str, type | tuple[type, ...]]]:
    schema = {section: dict(keys) for section, keys in _TEXT.items()}
    for key, bounds in NUMBERS.items():
        section, name = key.split(".", 1)
        schema.setdefault(section, {})[name] = int if bounds.integer else (int, float)
    return schema


_SCHEMA = _schema()


def _check_schema(data: Mapping[str, Any], origin: str) -> None:
    for section, values in data.items():
        if section not in _SCHEMA or not isinstance(values, dict):
            raise ConfigError(f"{origin}: unknown section [{section}]")
        if "api_key" in values:
            raise ConfigError(
                f"{origin}: api_key may not be stored in a file; set NCBI_API_KEY instead"
            )
        for key, value in values.items():
            expected = _SCHEMA[section].get(key)
            if expected is None:
                raise ConfigError(f"{origin}: unknown key {section}.{key}")
            if isinstance(value, bool) or not isinstance(value, expected):
                raise ConfigError(f"{origin}: {section}.{key} has the wrong type ({value!r})")


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: dict(v) for k, v in base.items()}
    for section, values in over.items():
        out.setdefault(section, {}).update(values)
    return out


def parse_categories(text: str, origin: str) -> tuple[Category, ...]:
    data = _read_toml(text, origin)
    entries = data.get("category")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{origin}: expected one or more [[category]] tables")
    out: list[Category] = []
    for i, entry in enumerate(entries, start=1):
        out.append(_parse_category(entry, f"{origin}: category #{i}"))
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"{origin}: category names must be unique: {names}")
    return tuple(out)


def _parse_category(entry: Any, where: str) -> Category:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: not a table")
    unknown = set(entry) - {"name", "heading", "term", "group", "subheading"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("name", "heading", "term"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ConfigError(f"{where}: '{key}' must be a non-empty string")
    # fullmatch: with match, "$" would also match before a final newline ("therapy\n").
    if not _CATEGORY_NAME.fullmatch(entry["name"]):
        # The name becomes a partition directory: keep it a safe path segment.
        raise ConfigError(f"{where}: name {entry['name']!r} must match {_CATEGORY_NAME.pattern}")
    for key in ("group", "subheading"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise ConfigError(f"{where}: '{key}' must be a string")
    return Category(
        entry["name"],
        entry["heading"],
        entry["term"].strip(),
        entry.get("group"),
        entry.get("subheading"),
    )


def _env_value(env: Mapping[str, str], name: str) -> str | None:
    # Set but empty counts as unset (a common CI/cron accident).
    value = env.get(name, "").strip()
    return value or None


def _rate_limit_dir(configured: str | None, env: Mapping[str, str]) -> Path:
    """The configured directory, else the user's cache: $XDG_CACHE_HOME or ~/.cache."""
    if configured:
        return Path(configured).expanduser()
    xdg = _env_value(env, "XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore a relative one
        return Path(xdg) / "medgen-etl"
    home = _env_value(env, "HOME")
    return (Path(home) if home else Path.home()) / ".cache" / "medgen-etl"


def load_settings(
    *,
    config_file: Path | None = None,
    categories_file: Path | None = None,
    env: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the run's Settings from defaults, an optional file, env and flags.

    ``overrides`` holds flag values by Settings field name; None means "not given".
    Every value is checked, and an error names the key and where its value came from.
    """
    origins: dict[str, str] = {}  # "ncbi.timeout" -> the file, variable or flag that set it
    data = _read_toml(_packaged("pipeline.toml"), "packaged pipeline.toml")
    _note_origins(origins, data, "packaged pipeline.toml")
    if config_file is not None:
        user = _read_toml(_read_file(config_file), str(config_file))
        _check_schema(user, str(config_file))
        _note_origins(origins, user, str(config_file))
        data = _merge(data, user)
    _check_schema(data, "configuration")
    # Every default is the packaged pipeline.toml's (merged under the user's file):
    # no value is written a second time here.
    ncbi, retry, extract = data["ncbi"], data["retry"], data["extract"]
    incremental = data["incremental"]

    cat_text, cat_origin = _packaged("categories.toml"), "packaged categories.toml"
    if categories_file is not None:
        cat_text, cat_origin = _read_file(categories_file), str(categories_file)

    api_key = _env_value(env, "NCBI_API_KEY")
    if _env_value(env, "NCBI_EUTILS_URL"):
        origins["ncbi.eutils_url"] = "NCBI_EUTILS_URL"
    values: dict[str, Any] = {
        "eutils_url": _env_value(env, "NCBI_EUTILS_URL") or ncbi["eutils_url"],
        "tool": ncbi["tool"],
        "email": _env_value(env, "NCBI_EMAIL") or ncbi.get("email"),
        "api_key": Secret(api_key) if api_key else None,
        "rate_limit": _float(ncbi["rate_limit"]),
        "rate_limit_with_key": _float(ncbi["rate_limit_with_key"]),
        "timeout": _float(ncbi["timeout"]),
        "retry": RetryPolicy(**retry),
        "search_page_size": extract["search_page_size"],
        "efetch_batch_size": extract["efetch_batch_size"],
        "elink_batch_size": extract["elink_batch_size"],
        "full_every_days": incremental["full_every_days"],
        "modified_margin_days": incremental["modified_margin_days"],
        "out_dir": Path(data["output"]["dir"]),
        "categories": parse_categories(cat_text, cat_origin),
        "limits": BodyLimits(**data.get("limits", {})),
        "rate_limit_dir": _rate_limit_dir(ncbi.get("rate_limit_dir"), env),
    }
    for key, value in (overrides or {}).items():
        if key not in values:
            raise ConfigError(f"unknown setting {key!r}")
        if value is not None:
            values[key] = value
            _note_flag(origins, key)
    settings = Settings(**values)
    _validate(settings, origins)
    return settings


def _float(value: Any) -> Any:
    """An int from TOML as the float the field holds; anything else is left to _validate."""
    if type(value) is int and abs(value) <= 2**53:
        return float(value)
    return value


def _note_origins(origins: dict[str, str], data: Mapping[str, Any], origin: str) -> None:
    for section, keys in data.items():
        for key in keys:
            origins[f"{section}.{key}"] = origin


def _note_flag(origins: dict[str, str], field_name: str) -> None:
    flag = "--" + field_name.replace("_", "-")
    if field_name == "eutils_url":
        origins["ncbi.eutils_url"] = flag
    for key, bounds in NUMBERS.items():
        if bounds.attr == field_name or bounds.attr.startswith(field_name + "."):
            origins[key] = flag


def _validate(s: Settings, origins: Mapping[str, str]) -> None:
    def where(key: str) -> str:
        return origins.get(key, "configuration")

    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", s.eutils_url):
        raise ConfigError(
            f"{where('ncbi.eutils_url')}: ncbi.eutils_url = {s.eutils_url!r} is not an http(s) URL"
        )
    for key, bounds in NUMBERS.items():
        _check_number(key, _field(s, bounds.attr), bounds, where(key))
    if s.retry.max_wait < s.retry.initial_wait:
        raise ConfigError(
            f"{where('retry.max_wait')}: retry.max_wait = {s.retry.max_wait!r} is less than "
            f"retry.initial_wait = {s.retry.initial_wait!r} (from {where('retry.initial_wait')})"
        )
    if _is_ncbi(s.eutils_url):
        for key, limit in NCBI_RATE_LIMITS.items():
            value = _field(s, NUMBERS[key].attr)
            if value > limit:
                raise ConfigError(
                    f"{where(key)}: {key} = {value!r} is above NCBI's limit of {limit:g} "
                    f"requests per second for {s.eutils_url} (faster only against another host)"
                )


def _is_ncbi(url: str) -> bool:
    host = (urlsplit(url).hostname or "").rstrip(".")
    return host == NCBI_DOMAIN or host.endswith("." + NCBI_DOMAIN)


def _field(s: Settings, path: str) -> Any:
    value: Any = s
    for name in path.split("."):
        value = getattr(value, name)
    return value


def _check_number(key: str, value: Any, bounds: Bounds, origin: str) -> None:
    shown = f"{origin}: {key} = {value!r}"
    kind = int if bounds.integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = "an integer" if bounds.integer else "a number"
        raise ConfigError(f"{shown} has the wrong type (expected {expected})")
    # An int is always finite (and math.isfinite would overflow on a huge one).
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{shown} is not a finite number")
    if not bounds.admits(value):
        raise ConfigError(f"{shown} is out of range: must be {bounds.describe()}")
