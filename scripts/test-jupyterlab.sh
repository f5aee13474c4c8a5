#!/usr/bin/env bash
# The JupyterLab tier: the server extension inside a real Jupyter server (from PyPI, in a virtualenv
# kept in the cache), in front of the real runtime API process. Needs `npm run build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${SKIFF_CACHE_DIR:-$HOME/.cache/skiff}/venv-jupyterlab-py$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -e "jupyterlab-ext[test]"
(cd jupyterlab-ext && "$venv/bin/python" -m pytest -q -p no:cacheprovider)
