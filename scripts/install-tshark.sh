#!/usr/bin/env bash
# Installs Debian's tshark (Wireshark's command-line dissector) for the btsnoop capture tests.
# Non-interactive and idempotent: returns at once when tshark is already on PATH.
set -euo pipefail

if command -v tshark >/dev/null 2>&1; then
    echo "tshark already installed: $(command -v tshark)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-tshark.sh: must run as root (or with sudo available) to apt-get install tshark" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture packets; answer "no" up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tshark

command -v tshark >/dev/null 2>&1 || { echo "install-tshark.sh: tshark still not on PATH" >&2; exit 1; }
echo "tshark installed: $(command -v tshark)"
