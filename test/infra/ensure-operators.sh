#!/usr/bin/env bash
# The operators a cloud cluster runs, installed into a kind cluster that stands in for one in the
# promotion e2e: Kubeflow's training operator (PyTorchJob) and KServe's controller
# (InferenceService). Each is built from the Go module proxy at a pinned version and installed
# with the CRDs and manifests of that same module; only the image is ours (no registry here).
# Usage: ensure-operators.sh CLUSTER [training-operator|kserve]...
set -euo pipefail
cluster=$1; shift
operators=("$@"); [ ${#operators[@]} -gt 0 ] || operators=(training-operator kserve)
repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/runtime/images
cache=${SKIFF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/skiff}
# shellcheck source=../../runtime/images/common.sh
source "$here/common.sh"
go_env
TRAINING_OPERATOR_VERSION=v1.8.1
KSERVE_VERSION=v0.15.0
context=kind-$cluster
kind=$cache/bin/kind-$KIND_VERSION/kind
kubectl() { "$cache/bin/kubernetes-$KUBERNETES_VERSION/kubectl" --context "$context" "$@"; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

module_dir() { go mod download -json "$1" | jq -r .Dir; }

go_tool_build() { # go_tool_build PACKAGE@VERSION BINARY OUT
  local pkg=${1%@*} version=${1#*@} binary=$2 out=$3
  go get -tool "$pkg@$version" >/dev/null
  log "building $pkg $version"
  go build -trimpath -ldflags "-s -w" -o "$out/$binary" "$pkg"
}

training_operator_build() { go_tool_build "github.com/kubeflow/training-operator/cmd/training-operator.v1@$TRAINING_OPERATOR_VERSION" manager "$1"; }
kserve_build() {
  # KServe pins golang.org/x/net with a replace line, which a wrapper module must repeat.
  go mod edit -replace golang.org/x/net=golang.org/x/net@v0.33.0
  go_tool_build "github.com/kserve/kserve/cmd/manager@$KSERVE_VERSION" manager "$1"
}

# load_image NAME VERSION DIR: a one-binary image of DIR's /manager, loaded into the cluster.
load_image() {
  local image=skiff.local/$1:$2 dir=$3
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    log "importing $image"
    tar -C "$dir" -c manager | docker import --change 'ENTRYPOINT ["/manager"]' --change 'USER 65532:65532' - "$image" >/dev/null
  fi
  "$kind" load docker-image --name "$cluster" "$image" >/dev/null 2>&1
  echo "$image"
}

install_training_operator() {
  local bin=$cache/bin/training-operator-$TRAINING_OPERATOR_VERSION
  build_into "$bin" training_operator_build
  local image; image=$(load_image training-operator "$TRAINING_OPERATOR_VERSION" "$bin")
  local mod; mod=$(module_dir "github.com/kubeflow/training-operator@$TRAINING_OPERATOR_VERSION")
  # Kustomize takes no absolute paths: the module's manifests go beside the overlay.
  mkdir -p "$work/training-operator" && cp -r "$mod/manifests" "$work/training-operator/module"
  # Workers wait for the master in an init container. Upstream's runs busybox nslookup in alpine,
  # which no registry here serves (and Debian's busybox nslookup fails on the first search domain
  # that misses): the same loop, with getent, in the job image every Skiff node already has.
  cat > "$work/training-operator/initContainer.yaml" <<'YAML'
- name: init-pytorch
  image: {{.InitContainerImage}}
  imagePullPolicy: IfNotPresent
  resources: { limits: { cpu: 100m, memory: 64Mi }, requests: { cpu: 50m, memory: 16Mi } }
  command: ['sh', '-c', 'err=1;for i in $(seq {{.MaxTries}}); do if getent hosts {{.MasterAddr}}; then err=0 && break; fi;echo waiting for master; sleep 2; done; exit $err']
YAML
  cat > "$work/training-operator/kustomization.yaml" <<YAML
resources: [module/overlays/standalone]
namespace: kubeflow
images: [{ name: kubeflow/training-operator, newName: ${image%:*}, newTag: ${image#*:} }]
configMapGenerator: [{ name: training-operator-init-container, files: [initContainer.yaml] }]
patches:
  - target: { kind: Deployment, name: training-operator }
    patch: |-
      - { op: add, path: /spec/template/spec/containers/0/args, value: ["--pytorch-init-container-image=$JOB_IMAGE"] }
      - { op: add, path: /spec/template/spec/volumes/-, value: { name: init-container, configMap: { name: training-operator-init-container } } }
      - { op: add, path: /spec/template/spec/containers/0/volumeMounts/-, value: { name: init-container, mountPath: /etc/config } }
YAML
  log "installing the training operator $TRAINING_OPERATOR_VERSION into $context"
  kubectl kustomize "$work/training-operator" | kubectl apply --server-side --force-conflicts -f - >/dev/null
  kubectl -n kubeflow rollout status deployment/training-operator --timeout=300s >/dev/null
}

install_kserve() {
  local bin=$cache/bin/kserve-$KSERVE_VERSION
  build_into "$bin" kserve_build
  local image; image=$(load_image kserve "$KSERVE_VERSION" "$bin")
  local mod; mod=$(module_dir "github.com/kserve/kserve@$KSERVE_VERSION")
  mkdir -p "$work/kserve" && cp -r "$mod/config" "$work/kserve/module"
  # Upstream's default overlay needs cert-manager and Knative. This one is KServe's raw mode: its
  # CRDs, RBAC, config and controller; the controller's webhook server gets a self-signed
  # certificate and no webhook is registered, so the API server admits InferenceServices as the
  # CRD's schema says.
  cat > "$work/kserve/kustomization.yaml" <<YAML
resources: [module/crd, module/rbac, module/configmap, module/manager]
namespace: kserve
images: [{ name: ko://github.com/kserve/kserve/cmd/manager, newName: ${image%:*}, newTag: ${image#*:} }]
patches:
  - target: { kind: Deployment, name: kserve-controller-manager }
    patch: '[{ "op": "replace", "path": "/spec/template/spec/containers/0/imagePullPolicy", "value": "IfNotPresent" }]'
  - target: { kind: ConfigMap, name: inferenceservice-config }
    patch: |-
      - { op: replace, path: /data/deploy, value: '{"defaultDeploymentMode": "RawDeployment"}' }
      - { op: replace, path: /data/ingress, value: '{"ingressGateway": "knative-serving/knative-ingress-gateway", "ingressDomain": "example.com", "ingressClassName": "none", "domainTemplate": "{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}", "urlScheme": "http", "disableIstioVirtualHost": true, "disableIngressCreation": true}' }
YAML
  log "installing KServe $KSERVE_VERSION (raw deployment mode) into $context"
  kubectl create namespace kserve --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  if ! kubectl -n kserve get secret kserve-webhook-server-cert >/dev/null 2>&1; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=kserve-webhook-server-service.kserve.svc" \
      -keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1
    kubectl -n kserve create secret tls kserve-webhook-server-cert --cert "$work/tls.crt" --key "$work/tls.key" >/dev/null
  fi
  kubectl kustomize "$work/kserve" | kubectl apply --server-side --force-conflicts -f - >/dev/null
  kubectl -n kserve rollout status deployment/kserve-controller-manager --timeout=300s >/dev/null
}

for o in "${operators[@]}"; do
  case $o in
    training-operator) install_training_operator ;;
    kserve) install_kserve ;;
    *) echo "unknown operator $o" >&2; exit 2 ;;
  esac
done
