"""Channel[T] and run() are generic: mypy accepts right uses and rejects wrong ones."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = sorted((Path(__file__).parent / "typecheck").glob("*.py"))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_the_api_is_typed_for_mypy(sample: Path) -> None:
    """Each sample passes ``mypy --strict`` except on the lines marked ``# E:``."""
    pytest.importorskip("mypy")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           str(sample)], capture_output=True, text=True)
    lines = sample.read_text().splitlines()
    expected = {i + 1 for i, line in enumerate(lines) if "# E:" in line}
    pattern = re.escape(sample.name) + r":(\d+): error"
    reported = {int(m.group(1)) for m in re.finditer(pattern, proc.stdout)}
    assert reported == expected, proc.stdout
