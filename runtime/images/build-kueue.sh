#!/usr/bin/env bash
# Kueue for `skiff up --with kueue`: the controller built from the Go module proxy at KUEUE_VERSION,
# as a one-binary image, and the module's own default manifests rendered with kubectl's kustomize
# (its image swapped for ours: no registry here). Cached by version (and by recipe, for the
# manifests): $CACHE/bin/kueue-<version>/kueue, $CACHE/bin/kueue-manifests-<version>-<recipe>/kueue.yaml
# and the image in Docker.
# Usage: build-kueue.sh CACHE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$1
source "$here/common.sh"
bin=$cache/bin/kueue-$KUEUE_VERSION
manifests=$cache/bin/kueue-manifests-$KUEUE_VERSION-$KUEUE_RECIPE
kubectl=$cache/bin/kubernetes-$KUBERNETES_VERSION/kubectl

kueue_build() {
  go get -tool "sigs.k8s.io/kueue/cmd/kueue@$KUEUE_VERSION" >/dev/null
  log "building Kueue $KUEUE_VERSION (a few minutes the first time)"
  go build -trimpath -ldflags "-s -w" -o "$1/kueue" sigs.k8s.io/kueue/cmd/kueue
}

kueue_manifests() {
  local mod; mod=$(go mod download -json "sigs.k8s.io/kueue@$KUEUE_VERSION" | jq -r .Dir)
  local k; k=$(mktemp -d)
  # Kustomize takes no absolute paths: the module's config goes beside the overlay.
  cp -r "$mod/config" "$k/module" && chmod -R u+w "$k/module"
  cat > "$k/kustomization.yaml" <<YAML
resources: [module/default]
patches:
  - target: { kind: Deployment, name: kueue-controller-manager }
    patch: |-
      - { op: replace, path: /spec/template/spec/containers/0/image, value: $KUEUE_IMAGE }
      - { op: replace, path: /spec/template/spec/containers/0/imagePullPolicy, value: IfNotPresent }
YAML
  log "rendering Kueue's manifests"
  "$kubectl" kustomize "$k" > "$1/kueue.yaml"
  rm -rf "$k"
}

# Go only when something is to be built: a machine with the cache needs none.
if [ ! -e "$bin/.done" ] || [ ! -e "$manifests/.done" ]; then
  go_env
  [ -x "$kubectl" ] || bash "$here/build-binaries.sh" "$cache" kubernetes
  build_into "$bin" kueue_build
  build_into "$manifests" kueue_manifests
fi
if docker image inspect "$KUEUE_IMAGE" >/dev/null 2>&1; then log "cached: $KUEUE_IMAGE"; exit 0; fi
log "importing $KUEUE_IMAGE"
# Kueue's Deployment runs /manager.
tar -C "$bin" --transform 's|^kueue$|manager|' -c kueue | docker import --change 'ENTRYPOINT ["/manager"]' --change 'USER 65532:65532' - "$KUEUE_IMAGE" >/dev/null
