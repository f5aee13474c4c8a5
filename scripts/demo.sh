#!/usr/bin/env bash
# The main job end to end on a fresh machine: Docker engine, offline images, a 3-node kind
# cluster, a 2-worker DDP training job with its logs and metrics, a serving job called once; then
# a script that checkpoints into its working directory and a second run that resumes from it, and a
# Flask server whose package comes from its requirements.txt (no image built), and Lightning's
# multi-node DDP as its users write it, its package from PyPI too; last, a notebook run
# top to bottom on a live 2-rank session whose variables stay between cells, and a package
# installed into it while it runs. The cluster's GPUs are fake (Skiff's device plugin, each shared 2
# ways): four ranks asking half a GPU each run on two GPUs. Then MLflow and Prometheus are added to
# the running cluster: a script written for MLflow records its run there unchanged, and its pods'
# usage is read back from Prometheus after they are gone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/infra/ensure-docker.sh
[ -d node_modules/.bin ] || npm ci --no-audit --no-fund
npm run build
skiff() { node runtime/dist/cli/skiff.mjs "$@"; }
skiff images build all
skiff up --workers 2 --profile fake-gpu --gpus-per-node 1 --gpu-sharing 2
skiff run examples/train_ddp.py --workers 2 --name demo-train
skiff metrics demo-train
skiff serve examples/serve.py --port 8000 --name demo-serve
skiff call demo-serve / --data '[1, 2, 3]'
skiff run examples/resume/train.py --workers 2 --name demo-ckpt
ls -l "$(skiff outputs demo-ckpt)"
skiff run examples/resume/train.py --workers 2 --name demo-resume --from demo-ckpt
skiff serve examples/flask_app/app.py --name demo-flask
skiff call demo-flask /predict --data '[1, 2, 3]' -H 'Content-Type: application/json'
# Lightning's own multi-node DDP, from its requirements.txt: it finds its rank as under torchrun.
skiff run examples/lightning/train.py --workers 2 --name demo-lightning
skiff session start examples/notebook/ddp.ipynb --workers 2 --name demo-session
skiff session run demo-session examples/notebook/ddp.ipynb
skiff session run demo-session -c "print(f'rank {rank}: still here, loss {loss.item():.4f}')"
# A package the notebook did not ask for, installed into the running session: no restart, variables kept.
skiff session run demo-session -c $'%pip install tabulate\nfrom tabulate import tabulate\nprint(tabulate([[rank, round(loss.item(), 4)]], headers=["rank", "loss"]))'
skiff session stop demo-session
skiff run examples/gpu_share.py --workers 4 --gpu-share 0.5 --name demo-gpu-share
skiff up --with mlflow,prometheus
skiff run examples/mlflow_tracking/train.py --name demo-mlflow
skiff describe demo-mlflow
skiff metrics demo-mlflow
skiff jobs
