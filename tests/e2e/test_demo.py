"""``policenet demo --once`` is the project's own acceptance test of the whole network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_demo_once_runs_the_script_and_exits_zero(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "policenet", "demo", "--once", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo script passed" in result.stdout
    # what the script shows happened: members listed, refusals, an event, a revocation, a proof
    for shown in (
        "ncb-fr",
        "refused in the TLS handshake",
        "may now search documents, persons",
        "after revocation",
        "signature verified",
        "HIT red notice FR-2026-RN-0117 owned by NCB Lyon",
        "'Kareem' ~ 'Karim': spelling variant",
    ):
        assert shown in result.stdout, shown


def test_demo_refuses_to_replace_a_directory_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("case notes")
    result = subprocess.run(
        [sys.executable, "-m", "policenet", "demo", "--once", "--dir", str(precious)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "is not a demo directory" in result.stderr
    assert (precious / "keep.txt").read_text() == "case notes"
