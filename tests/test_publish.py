"""The run's arguments as the manifest records them: JSON, and never a secret."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.config import Secret, load_settings
from pipeline.models import ConceptRef
from pipeline.publish import run_arguments
from pipeline.runner import BuildOptions


def test_build_options_become_json_with_the_settings_that_shape_the_tables(tmp_path):
    settings = load_settings(env={}, overrides={"out_dir": tmp_path / "out"})
    options = BuildOptions(
        concepts=(ConceptRef("cui", "C4725027"), ConceptRef("uid", "1662593")),
        raw_dir=tmp_path / "raw",
        per_category=5,
        progress=True,
    )
    arguments = run_arguments(options, settings)
    assert arguments["concepts"] == ["C4725027", "1662593"]
    assert arguments["raw_dir"] == str(tmp_path / "raw")
    assert arguments["per_category"] == 5
    assert arguments["out_dir"] == str(tmp_path / "out")
    assert arguments["eutils_url"] == settings.eutils_url
    assert "progress" not in arguments  # how the run looks, not what it makes


def test_a_url_keeps_no_user_password_or_query(tmp_path):
    env = {"NCBI_EUTILS_URL": "https://me:pw@mirror.example.org/eutils/?token=abc"}
    settings = load_settings(env=env, overrides={"out_dir": tmp_path})
    options = BuildOptions(concepts=(), raw_dir=tmp_path)
    assert run_arguments(options, settings)["eutils_url"] == "https://mirror.example.org/eutils/"


def test_a_secret_is_never_written_as_an_argument(tmp_path):
    @dataclass(frozen=True)
    class Leaky:
        key: Secret

    settings = load_settings(env={}, overrides={"out_dir": tmp_path})
    with pytest.raises(TypeError, match="secret"):
        run_arguments(Leaky(Secret("k")), settings)


def test_an_argument_without_a_json_form_is_refused(tmp_path):
    @dataclass(frozen=True)
    class Odd:
        value: object

    settings = load_settings(env={}, overrides={"out_dir": tmp_path})
    with pytest.raises(TypeError, match="no JSON form"):
        run_arguments(Odd(Path), settings)
