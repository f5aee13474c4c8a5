# Sourced by the JupyterLab tiers: a virtualenv (kept in the cache, keyed by Python version) with
# JupyterLab from PyPI and the Skiff package installed from its wheel, the labextension prebuilt.
# Needs `npm run build` first. Sets $venv (or takes $SKIFF_JLAB_VENV: a second checkout keeps its own)
# and puts it first on PATH.
venv="${SKIFF_JLAB_VENV:-${SKIFF_CACHE_DIR:-$HOME/.cache/skiff}/venv-jupyterlab-py$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
npm run build -w @skiff/jupyterlab >/dev/null
"$venv/bin/pip" install -q --disable-pip-version-check "./jupyterlab-ext[test]"
export PATH="$venv/bin:$PATH"
