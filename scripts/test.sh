#!/usr/bin/env bash
# Runs every test of the project: codecs, scenarios on the virtual radio, and interop with Bumble.
# Installs what the tests need first (tshark from Debian, Bumble from PyPI into .venv-interop/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tshark.sh
scripts/setup-bumble.sh
swift build --build-tests
swift test --skip-build "$@"
