#!/usr/bin/env bash
# The JupyterLab tier without a cluster: the server extension inside a real Jupyter server in front
# of the real runtime API process, and the %%skiff magic in a real IPython, both from the installed
# wheel. Needs `npm run build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/jupyterlab-env.sh
(cd jupyterlab-ext && python -m pytest -q -p no:cacheprovider)
