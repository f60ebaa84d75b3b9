"""Channel[T] and run() are generic: mypy accepts right uses and rejects wrong ones."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).parent / "typecheck" / "channel_types.py"


@pytest.mark.timeout(300)
def test_channel_is_generic_for_mypy() -> None:
    pytest.importorskip("mypy")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           str(SAMPLE)], capture_output=True, text=True)
    lines = SAMPLE.read_text().splitlines()
    expected = {i + 1 for i, line in enumerate(lines) if "# E:" in line}
    pattern = r"channel_types\.py:(\d+): error"
    reported = {int(m.group(1)) for m in re.finditer(pattern, proc.stdout)}
    assert reported == expected, proc.stdout
