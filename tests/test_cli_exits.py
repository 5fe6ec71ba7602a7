"""Exit statuses a shell or scheduler sees when the user, or the reader of our
output, stops the program: Ctrl-C before a command runs, and a closed pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from pipeline.cli import InterruptibleGroup, handled
from tests.conftest import ROOT
from tests.support import demo_snapshot


def _interrupted(ctx: click.Context, param: click.Parameter, value: object) -> object:
    raise KeyboardInterrupt  # as Ctrl-C does while click reads the command line


@click.group(cls=InterruptibleGroup)
def cli() -> None:
    pass


@cli.command()
@click.option("--slow", callback=_interrupted, expose_value=False)
@handled
def parse() -> None:
    raise AssertionError("the command ran although its command line was interrupted")


@cli.command()
@handled
def write() -> None:
    raise BrokenPipeError(32, "Broken pipe")


def test_ctrl_c_while_the_command_line_is_read_exits_130_not_clicks_1():
    result = CliRunner().invoke(cli, ["parse", "--slow", "x"])
    assert result.exit_code == 130
    assert "interrupted by SIGINT" in result.output
    assert "Aborted!" not in result.output


def test_a_reader_that_closed_the_pipe_ends_the_command_with_141_and_no_message():
    result = CliRunner().invoke(cli, ["write"])
    assert result.exit_code == 141
    assert result.output == ""


def test_show_into_a_closed_pipe_exits_141_quietly(tmp_path: Path):
    out = tmp_path / "out"
    demo_snapshot(out)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "-q", "show", "C4725027", "--out", str(out)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141, done.stderr
    assert done.stderr == ""  # no error, and no "Exception ignored" from a final flush
