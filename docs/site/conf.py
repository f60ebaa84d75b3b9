"""Sphinx configuration of the libtask9 docs site (``make docs`` -> build/docs/).

Sources: this folder (``docs/site/``), the docstrings of ``libtask9`` (autodoc), and the
repository's Markdown files (README.md, docs/CONTRACT.md, spec/README.md) and examples,
included from where they live so that nothing is copied.  Warnings are errors
(``sphinx-build -W --keep-going``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # document this checkout's libtask9, whatever is installed
# The cookbook page shows each example's module docstring (automodule) as text above
# its code; importing an example runs nothing (each has an ``if __name__`` guard).
sys.path.insert(0, str(ROOT / "examples"))

import libtask9  # noqa: E402

project = "libtask9"
release = libtask9.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# -- autodoc ---------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Every cross-reference must resolve (nitpicky), except to what this site does not
# document: the standard library and greenlet (no intersphinx: the build is offline),
# type variables and private type aliases in signatures, and the internal modules
# (the oracle ``libtask9.model`` and the submodules of ``libtask9.testing``) that some
# docstrings mention.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(collections\.abc|os|pathlib|socket|threading|traceback|typing|types|io|"
               r"greenlet)"
               r"\..*"),
    (r"py:.*", r"(dict|list|tuple|collections\.abc\.\w+)\[.*"),  # split generic aliases
    (r"py:.*", r"libtask9\.(_\w+\.)?[A-Z]"),  # type variables T, R
    (r"py:class", r"CaseChooser|Tracer|libtask9\.testing\.tlctrace\.TraceExport"),
    (r"py:.*", r"libtask9\.model(\..*)?"),
    (r"py:(mod|func)", r"(tracecheck|tlctrace|tla|equiv|tracegen)(\..*)?"),
    # private base classes of public ones (TaskGroup's TaskOwner, the timeout scopes')
    (r"py:class", r"libtask9\._(sched\.TaskOwner|scope\._Scope)"),
]

# -- MyST (Markdown) -------------------------------------------------------------------
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# -- HTML ------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"libtask9 {release}"
html_static_path: list[str] = []
# Wide enough for the repository's 100-column code without a scroll bar.
html_theme_options = {"page_width": "1240px", "sidebar_width": "240px", "body_max_width": "none"}
