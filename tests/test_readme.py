"""The README's example runs and prints what the README says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_output() -> None:
    text = README.read_text()
    m = re.search(r"```python\n(.*?)```", text, re.S)
    assert m is not None
    code = m.group(1)
    expected = re.search(r"print\(run\(main\)\)\s+# (.*)", code)
    assert expected is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    assert out.getvalue().strip() == expected.group(1).strip()
