#!/usr/bin/env bash
# Prepares the Python side of the Bumble interop tests.
#
# Creates (once) a virtual environment at <project root>/.venv-interop with the pinned Bumble
# release, and prints the path of its python interpreter on the last line of stdout.
# Running it again when the venv is complete only checks it (well under a second).
# Exits non-zero with a message on stderr when it cannot provide a working Bumble.
#
# Environment:
#   BUMBLE_VENV   another venv location (default: <project root>/.venv-interop)
#   PYTHON        the interpreter used to create the venv (default: python3; Bumble needs 3.11+)
set -euo pipefail

BUMBLE_VERSION="0.0.236"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BUMBLE_VENV:-$ROOT/.venv-interop}"
PY="$VENV/bin/python"
BASE_PYTHON="${PYTHON:-python3}"

fail() {
    echo "setup-bumble.sh: $*" >&2
    exit 1
}

# The venv is ready when its python imports the pinned Bumble (checked from the installed
# distribution's metadata, which is cheap, plus the modules the harness uses).
is_ready() {
    [ -x "$PY" ] || return 1
    "$PY" - "$BUMBLE_VERSION" <<'PYEOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
if version("bumble") != sys.argv[1]:
    sys.exit(1)
import bumble.controller, bumble.device, bumble.link, bumble.transport  # noqa: F401
PYEOF
}

if ! is_ready; then
    # One installer at a time (e.g. two test processes): lock this script's own file, so that no
    # lock file is left in the project. Without flock, go on unlocked.
    if command -v flock >/dev/null 2>&1; then
        exec 9<"${BASH_SOURCE[0]}"
        flock -w 600 9 || fail "timed out waiting for another setup-bumble.sh to finish"
    fi
fi
if ! is_ready; then
    command -v "$BASE_PYTHON" >/dev/null 2>&1 ||
        fail "no '$BASE_PYTHON' on PATH: install Python 3.11+ (e.g. apt-get install python3 python3-venv) or set PYTHON"
    "$BASE_PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' ||
        fail "$("$BASE_PYTHON" --version 2>&1) is too old: Bumble $BUMBLE_VERSION needs Python 3.11 or newer (set PYTHON)"
    echo "setup-bumble.sh: creating $VENV with bumble==$BUMBLE_VERSION (one-time, about a minute)" >&2
    if [ ! -x "$PY" ]; then
        if [ -e "$VENV" ]; then
            # Only ever delete something that is a (broken) venv.
            [ -f "$VENV/pyvenv.cfg" ] || [ -z "$(ls -A "$VENV" 2>/dev/null)" ] ||
                fail "$VENV exists and is not a Python venv; move it away or set BUMBLE_VENV"
            rm -rf "$VENV"
        fi
        "$BASE_PYTHON" -m venv "$VENV" >&2 ||
            fail "'$BASE_PYTHON -m venv $VENV' failed (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    "$PY" -m pip install --quiet --disable-pip-version-check "bumble==$BUMBLE_VERSION" >&2 ||
        fail "'pip install bumble==$BUMBLE_VERSION' into $VENV failed (is PyPI reachable?)"
    is_ready || fail "$VENV was set up but '$PY' cannot import bumble $BUMBLE_VERSION; delete $VENV and retry"
fi

echo "$PY"
