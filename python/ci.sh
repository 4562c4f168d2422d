#!/usr/bin/env bash
# The Python package's CI: on a machine with Python 3.11+, pip and a Rust toolchain, make a
# fresh virtual environment, `pip install ./python` (maturin builds the extension in
# release mode) and pytest, then run the suite against the installed package. Any failure
# fails the script.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-}"
if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null; then
            python="$candidate"
            break
        fi
    done
fi
[ -n "$python" ] || { echo "python/ci.sh: Python 3.11 or newer is required" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { echo "python/ci.sh: $python is older than 3.11" >&2; exit 1; }
command -v cargo >/dev/null || { echo "python/ci.sh: cargo is required" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "python/ci.sh: venv in $work with $("$python" --version)"
"$python" -m venv "$work/venv"
venv_python="$work/venv/bin/python"
"$venv_python" -m pip install --disable-pip-version-check --progress-bar off "$here" "pytest>=7" mypy

# Run from outside the source tree, so the tests import the installed package (with its
# compiled extension), not the `sigmalang/` folder beside this script.
cd "$work"
"$venv_python" -c '
import sigmalang, sys
assert "site-packages" in sigmalang.__file__, sigmalang.__file__
print("python/ci.sh: testing sigmalang", sigmalang.__version__, "from", sigmalang.__file__)
'
# The annotations and the extension's stubs agree (strict type check of the package).
"$venv_python" -m mypy --strict --cache-dir "$work/mypy-cache" "$here/sigmalang"
"$venv_python" -m pytest -p no:cacheprovider -q "$here/tests"
