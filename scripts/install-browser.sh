#!/bin/sh
# Install the headless browser the site test (tests/test_site_browser.py) drives: Debian's chromium.
# Idempotent: does nothing when a chromium is already on PATH. Needs root (or sudo) and apt.
set -eu
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then
        echo "install-browser: $(command -v "$b") already installed"
        exit 0
    fi
done
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: no apt-get here; install Chromium by hand (any headless-capable build on PATH)" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
        echo "install-browser: not root and no sudo; run 'apt-get install -y chromium' as root" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends chromium || {
    $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends chromium
}
command -v chromium
