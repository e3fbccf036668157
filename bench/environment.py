"""What every benchmark records about the run: the machine, the versions, the code, PostgreSQL.

Each JSON result carries this, so a figure can be traced to the machine, the
load on it when the run started and the commit it measured.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
PG_SETTINGS = ("shared_buffers", "work_mem", "maintenance_work_mem", "jit")
"""The PostgreSQL settings recorded unless a benchmark names others."""


def git(*args: str) -> str:
    """Output of a read-only git command in the repository, or "" without git."""
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def environment(
    conn: psycopg.Connection[Any] | None = None, pg_settings: Sequence[str] = PG_SETTINGS
) -> dict[str, Any]:
    """The machine, the versions, the load average now, the commit; PostgreSQL's version and
    ``pg_settings`` when ``conn`` is given."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    env: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpu_model": next(
            (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
            platform.processor(),
        ),
        "memory_bytes": next(int(x.split()[1]) * 1024 for x in meminfo if x.startswith("MemTotal")),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "psycopg": psycopg.__version__,
        "load_average_1_5_15_min": os.getloadavg(),
        "policenet_commit": git("rev-parse", "HEAD"),
        "policenet_uncommitted_files_in_src": len(git("status", "--porcelain", "src").split()) // 2,
    }
    if conn is not None:
        env["postgresql"] = conn.execute("SELECT version()").fetchone()[0]  # type: ignore[index]
        env["postgresql_settings"] = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in pg_settings
        }
    return env
