"""The docs site (``make docs``, sources in ``docs/site/``) covers the API and the cookbook.

The coverage checks need nothing but the standard library and run in every ``make
test``.  The build itself needs the ``docs`` extra (``make docs`` installs it); when it
is installed, ``test_docs_build`` builds the whole site as ``make docs`` does, warnings
being errors, so a docstring change that breaks the site fails the suite.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import libtask9
import libtask9.testing

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "docs" / "site"

# ``.. autofunction:: name`` and friends, or a hand-written ``.. function:: name(...)``.
_DIRECTIVE = re.compile(
    r"^\.\. (?:auto)?(?:function|class|exception|data)::\s+([\w.]+)", re.M)


def _documented(section: str) -> set[str]:
    return set(_DIRECTIVE.findall(section))


def test_api_page_documents_every_public_name() -> None:
    text = (SITE / "api.rst").read_text()
    top, _, testing = text.partition(".. currentmodule:: libtask9.testing")
    assert ".. module:: libtask9" in top
    missing = set(libtask9.__all__) - _documented(top) - {"__version__"}
    assert not missing, f"add these names of libtask9.__all__ to docs/site/api.rst: {missing}"
    assert "__version__" in _documented(top)
    missing = set(libtask9.testing.__all__) - _documented(testing)
    assert not missing, f"add these names of libtask9.testing to docs/site/api.rst: {missing}"


def test_api_page_documents_no_stale_name() -> None:
    text = (SITE / "api.rst").read_text()
    top, _, testing = text.partition(".. currentmodule:: libtask9.testing")
    assert _documented(top) <= {*libtask9.__all__, "__version__"}
    assert _documented(testing) <= set(libtask9.testing.__all__)


def test_cookbook_page_shows_every_example() -> None:
    text = (SITE / "cookbook.md").read_text()
    for example in sorted((ROOT / "examples").glob("*.py")):
        assert f".. automodule:: {example.stem}\n" in text, example.name
        assert f"```{{literalinclude}} ../../examples/{example.name}\n" in text, example.name


def test_repository_markdown_is_included() -> None:
    for page, source in [("README.md", "../../README.md"),
                         ("docs/CONTRACT.md", "../../CONTRACT.md"),
                         ("spec/README.md", "../../../spec/README.md")]:
        text = (SITE / page).read_text()
        assert f"```{{include}} {source}\n" in text
        assert (SITE / page).parent.joinpath(source).resolve().is_file()
        assert page.removesuffix(".md") in (SITE / "index.md").read_text()


def test_make_docs_target_fails_on_warnings() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^docs:", makefile, re.M)
    assert "-m sphinx -W --keep-going" in makefile and "build/docs" in makefile
    assert "docs = [" in (ROOT / "pyproject.toml").read_text()


_HAVE_SPHINX = all(importlib.util.find_spec(m) is not None for m in ("sphinx", "myst_parser"))


@pytest.mark.skipif(not _HAVE_SPHINX, reason="the docs extra is not installed (make docs)")
@pytest.mark.timeout(180)
def test_docs_build(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(SITE), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=170, cwd=ROOT)
    assert out.returncode == 0, f"the docs build failed:\n{out.stdout}\n{out.stderr}"
    html = tmp_path / "html"
    api = (html / "api.html").read_text()
    for name in libtask9.__all__:
        assert f'id="libtask9.{name}"' in api, name
    cookbook = (html / "cookbook.html").read_text()
    assert cookbook.count('class="highlight-python') == len(list((ROOT / "examples").glob("*.py")))
    for page in ("index.html", "README.html", "docs/CONTRACT.html", "spec/README.html"):
        assert (html / page).is_file(), page
