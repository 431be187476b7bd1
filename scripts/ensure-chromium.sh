#!/bin/sh
# The browser tests drive Debian's Chromium through Playwright (no browser downloads).
# Install it when it is missing and we may (root, or passwordless sudo).
set -e
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "Chromium is missing at $CHROMIUM: install Debian's 'chromium' package (the browser tests need it)." >&2
  exit 1
fi
echo "Installing Debian's chromium for the browser tests..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
[ -x "$CHROMIUM" ] || { echo "Installed 'chromium', but there is still no Chromium at $CHROMIUM." >&2; exit 1; }
