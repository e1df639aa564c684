#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright — never a downloaded browser.
# Installs the Debian package when missing and running as root; otherwise prints the command to run.
set -euo pipefail
# A CJK font makes Chinese readable in screenshots (fonts-wqy-microhei).
have_font() { fc-list :lang=zh 2>/dev/null | grep -q . ; }
if [ -x /usr/bin/chromium ] && have_font; then echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1)"; exit 0; fi
if [ "$(id -u)" = "0" ]; then
  echo "chromium: installing the Debian package"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
  /usr/bin/chromium --version
else
  echo "chromium: missing; run: sudo apt-get install -y chromium fonts-wqy-microhei" >&2
  exit 1
fi
