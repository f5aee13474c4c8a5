#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it; nothing downloads a browser).
set -euo pipefail
command -v chromium >/dev/null && exit 0
printf '[ensure-chromium] installing chromium from Debian\n' >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
