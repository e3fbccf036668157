"""The shared reference data the tests read (``../shared/data`` beside the repository).

It is never copied into the project; a test that needs it skips with a clear
reason where it is absent (CI always has it).
"""

from __future__ import annotations

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
