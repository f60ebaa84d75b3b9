#!/usr/bin/env bash
# make test-wheel: test what users install.
#
# From a clean export of HEAD (git archive: no untracked or uncommitted files, no build/):
#  1. python -m build: the sdist, then the wheel from the sdist, with the compiled core
#     required (LIBTASK9_REQUIRE_COMPILED=1); check what each contains;
#  2. the build switches: LIBTASK9_PURE=1 gives a pure py3-none-any wheel; a failing C
#     compiler (CC=false) falls back to one with a warning, and is an error under
#     LIBTASK9_REQUIRE_COMPILED=1 (skipped with QUICK=1);
#  3. a fresh venv with the wheel (not editable) and the dev extras; the whole suite
#     against it, run from a copy of the tree without libtask9/ (so the installed package
#     is the one imported), once with the compiled core (libtask9.COMPILED is True) and
#     once with LIBTASK9_PURE=1 (False) -- with PURE_SUITE=smoke only the tests that
#     differ for an installed pure package (the switch, a few core files): the pure
#     modules are the repository's own, which `make test` runs in full;
#  4. another fresh venv, the wheel installed and used from a directory with nothing but
#     the wheel in it, the source tree gone.
#
# Environment: PYTHON (the interpreter to build and test with, default python3: the wheel
# is for its version), PYTEST_ARGS (extra pytest arguments), QUICK=1 (skip step 2),
# PURE_SUITE=smoke (see 3), KEEP=1 (keep the work directory).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
unset LIBTASK9_PURE LIBTASK9_REQUIRE_COMPILED LIBTASK9_EXPECT_COMPILED LIBTASK9_EXPECT_INSTALLED
PYTHON=${PYTHON:-python3}
case $PYTHON in /*) ;; */*) PYTHON=$PWD/$PYTHON ;; esac  # the steps below run elsewhere
WORK=$(mktemp -d "${TMPDIR:-/tmp}/libtask9-test-wheel.XXXXXX")
if [ "${KEEP:-}" = 1 ]; then
  trap 'echo "test-wheel: work directory kept: $WORK"' EXIT
else
  trap 'rm -rf "$WORK"' EXIT
fi
T0=$(date +%s)
say() { echo "== test-wheel [$(( $(date +%s) - T0 )) s]: $*"; }
fail() { echo "test-wheel: FAILED: $*" >&2; exit 1; }

# A build: its log goes to a file; the lines that matter are shown, all of it on failure.
build() {  # build LOG ARGS...
  local log=$1; shift
  if ! "$BUILD_PYTHON" -m build "$@" >"$log" 2>&1; then
    cat "$log" >&2
    return 1
  fi
  grep -E '^libtask9 setup.py:|^WARNING|^self-test|^Successfully built' "$log" | cut -c1-200 || true
}

# ---------------------------------------------------------------- 1. sdist and wheel
say "a venv with the build frontend (python -m build) for $("$PYTHON" --version)"
"$PYTHON" -m venv "$WORK/buildenv"
BUILD_PYTHON=$WORK/buildenv/bin/python
"$BUILD_PYTHON" -m pip install --quiet "build>=1"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then
  echo "test-wheel: note: uncommitted changes are not tested (HEAD $COMMIT is)"
fi
mkdir "$WORK/src" "$WORK/dist"
git -C "$ROOT" archive --format=tar HEAD | tar -x -C "$WORK/src"

say "python -m build (sdist, then the wheel from it; LIBTASK9_REQUIRE_COMPILED=1) of $COMMIT"
B0=$(date +%s)
(cd "$WORK/src" && LIBTASK9_REQUIRE_COMPILED=1 build "$WORK/build.log" --outdir "$WORK/dist" .)
say "built in $(( $(date +%s) - B0 )) s: $(cd "$WORK/dist" && echo *)"
SDIST=$(ls "$WORK"/dist/libtask9-*.tar.gz)
WHEEL=$(ls "$WORK"/dist/libtask9-*.whl)

"$PYTHON" - "$SDIST" "$WHEEL" "$ROOT/tools" <<'EOF'
import sys, tarfile, zipfile
sdist, wheel, tools = sys.argv[1:]
sys.path.insert(0, tools)
from compiled_core import MODULES
names = {n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
need = {"pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "tools/compiled_core.py",
        "libtask9/__init__.py", "libtask9/py.typed"}
assert need <= names, f"sdist lacks {sorted(need - names)}"
assert not any(n.endswith((".so", ".c")) for n in names), "sdist holds built files"
files = set(zipfile.ZipFile(wheel).namelist())
assert "libtask9/py.typed" in files, "wheel lacks py.typed"
for m in MODULES:
    assert f"libtask9/{m}.py" in files, f"wheel lacks libtask9/{m}.py"
    assert any(f.startswith(f"libtask9/{m}.") and f.endswith((".so", ".pyd")) for f in files), \
        f"wheel lacks the compiled libtask9.{m}"
assert any(f.startswith("libtask9_core__mypyc.") for f in files), "wheel lacks the shared lib"
assert "-py3-none-any" not in wheel, wheel
print(f"test-wheel: sdist ({len(names)} files) and wheel ({len(files)} files) contents ok")
EOF

# ---------------------------------------------------------------- 2. build switches
pure_wheel() {  # pure_wheel DIR: the one wheel in DIR is pure Python
  "$PYTHON" - "$1" <<'EOF'
import glob, sys, zipfile
(w,) = glob.glob(sys.argv[1] + "/*.whl")
assert w.endswith("-py3-none-any.whl"), w
files = zipfile.ZipFile(w).namelist()
assert not [f for f in files if f.endswith((".so", ".pyd"))], files
assert "libtask9/py.typed" in files
EOF
}
if [ "${QUICK:-}" != 1 ]; then
  say "LIBTASK9_PURE=1 python -m build --wheel: a pure wheel"
  (cd "$WORK/src" && LIBTASK9_PURE=1 build "$WORK/pure.log" --wheel --outdir "$WORK/pure" .)
  pure_wheel "$WORK/pure"
  say "no working C compiler (CC=false): falls back to a pure wheel, with a warning"
  rm -rf "$WORK/src/build"
  (cd "$WORK/src" && CC=false build "$WORK/fallback.log" --wheel --outdir "$WORK/fallback" .)
  pure_wheel "$WORK/fallback"
  grep -q "WARNING: the compiled core could not be built" "$WORK/fallback.log" ||
    fail "the fallback build printed no warning"
  say "no working C compiler and LIBTASK9_REQUIRE_COMPILED=1: the build fails"
  rm -rf "$WORK/src/build"
  if (cd "$WORK/src" && CC=false LIBTASK9_REQUIRE_COMPILED=1 \
        "$BUILD_PYTHON" -m build --wheel --outdir "$WORK/required" . >"$WORK/required.log" 2>&1); then
    fail "LIBTASK9_REQUIRE_COMPILED=1 build succeeded without a C compiler"
  fi
  grep -q "LIBTASK9_REQUIRE_COMPILED=1) and could not be built" "$WORK/required.log" ||
    { cat "$WORK/required.log" >&2; fail "the required build failed for another reason"; }
  echo "test-wheel: failed as it should: $(grep -o 'error: libtask9: .*required.*built' "$WORK/required.log" | head -1)"
fi

# ---------------------------------------------------------------- 3. the suite, installed
say "a fresh venv with the wheel and the dev extras"
"$PYTHON" -m venv "$WORK/venv"
VPY=$WORK/venv/bin/python
(cd "$WORK" && "$VPY" -m pip install --quiet "$WHEEL[dev]")

# The tree the tests need (tests/, spec/, stress/, bench/, examples/, docs/, tools/,
# README.md, pyproject.toml for pytest's configuration), without the package itself.
mkdir "$WORK/tree"
git -C "$ROOT" archive --format=tar HEAD | tar -x -C "$WORK/tree"
rm -rf "$WORK/tree/libtask9" "$WORK/tree/setup.py"
export LIBTASK9_SPEC_DIR=$WORK/tree/spec LIBTASK9_EXPECT_INSTALLED=1

check_core() {  # check_core True|False: libtask9 comes from the venv, COMPILED as given
  (cd "$WORK/tree" && "$VPY" -c "
import sys, libtask9
assert libtask9.__file__.startswith(sys.prefix), libtask9.__file__
assert libtask9.COMPILED is $1, libtask9.COMPILED
print('test-wheel: libtask9', libtask9.__version__, 'from', libtask9.__file__, '- COMPILED', libtask9.COMPILED)
")
}
# shellcheck disable=SC2086  # PYTEST_ARGS is a list of words
suite() { (cd "$WORK/tree" && "$VPY" -m pytest -q -p no:cacheprovider ${PYTEST_ARGS:-}); }

say "the suite against the installed wheel, compiled core"
check_core True
LIBTASK9_EXPECT_COMPILED=1 suite
say "the suite against the installed wheel, LIBTASK9_PURE=1 (${PURE_SUITE:-full})"
LIBTASK9_PURE=1 check_core False
if [ "${PURE_SUITE:-full}" = smoke ]; then
  (cd "$WORK/tree" && LIBTASK9_PURE=1 LIBTASK9_EXPECT_COMPILED=0 "$VPY" -m pytest -q \
     -p no:cacheprovider tests/test_compiled.py tests/test_channel.py tests/test_lifecycle.py \
     tests/test_group.py tests/test_readme.py)
else
  LIBTASK9_PURE=1 LIBTASK9_EXPECT_COMPILED=0 suite
fi

# ---------------------------------------------------------------- 4. without the source
say "the wheel alone: installed and used with no source tree present"
mkdir "$WORK/alone"
cp "$WHEEL" "$WORK/alone/"
rm -rf "$WORK/src" "$WORK/tree" "$WORK/dist"
cd "$WORK/alone"
"$PYTHON" -m venv venv
venv/bin/python -m pip install --quiet ./*.whl
cat > example.py <<'EOF'
import sys
import libtask9
from libtask9 import Channel, new_task, run

def produce(c: Channel[int]) -> None:
    for i in range(5):
        c.send(i)
    c.close()

def main() -> int:
    c: Channel[int] = Channel()
    new_task(produce, c)
    total = 0
    try:
        while True:
            total += c.recv()
    except libtask9.ChannelClosed:
        return total

assert run(main) == 10
print(f"COMPILED={libtask9.COMPILED} version={libtask9.__version__} file={libtask9.__file__}")
assert libtask9.__file__.startswith(sys.prefix)
EOF
venv/bin/python example.py | tee out.txt
grep -q "COMPILED=True" out.txt || fail "the wheel alone did not load the compiled core"
LIBTASK9_PURE=1 venv/bin/python example.py | tee out.txt
grep -q "COMPILED=False" out.txt || fail "LIBTASK9_PURE=1 did not select the pure modules"
say "ok: $(basename "$WHEEL")"
