#!/usr/bin/env bash
# Builds every Go binary a kind node needs from the Go module proxy, one cached folder per
# component version: $CACHE/bin/<component>-<version>/. Nothing is built twice.
# Usage: build-binaries.sh CACHE_DIR [component...]   (components: kubernetes etcd coredns kind containerd nvidia-toolkit fake-gpu-plugin dra-driver)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$1; shift
# shellcheck source=common.sh
source "$here/common.sh"
components=("$@"); [ ${#components[@]} -gt 0 ] || components=(kind kubernetes etcd coredns containerd nvidia-toolkit fake-gpu-plugin dra-driver)
go_env

# Requires k8s.io/kubernetes at KUBERNETES_VERSION in the wrapper module. It points its staging
# modules at ./staging, which the module zip lacks: pin each of them to its published release instead.
require_kubernetes() {
  local v=$KUBERNETES_VERSION m
  go mod edit -require "k8s.io/kubernetes@$v"
  local gomod; gomod=$(go mod download -json "k8s.io/kubernetes@$v" | jq -r .GoMod)
  local staging
  staging=$(awk '$2=="=>" && $3 ~ /^\.\/staging\// {print $1}' "$gomod")
  for m in $staging; do go mod edit -replace "$m=$m@$KUBERNETES_STAGING_VERSION"; done
}

kubernetes_build() {
  local out=$1 v=$KUBERNETES_VERSION
  require_kubernetes
  local cmds=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
  for c in "${cmds[@]}"; do go get -tool "k8s.io/kubernetes/cmd/$c@$v" >/dev/null; done
  local minor=${v#v1.}; minor=${minor%%.*}
  local ld="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    ld+=" -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  for c in "${cmds[@]}"; do
    log "building $c $v"
    go build -trimpath -ldflags "$ld" -o "$out/$c" "k8s.io/kubernetes/cmd/$c"
  done
}

etcd_build() {
  local out=$1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null
  log "building etcd $ETCD_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
}

coredns_build() {
  local out=$1
  # Only the plugins kubeadm's Corefile uses: the full plugin set drags in every cloud SDK
  # and triples the build time.
  local p imports=""
  for p in errors health ready kubernetes metrics forward cache loop reload loadbalance log; do
    imports+="	_ \"github.com/coredns/coredns/plugin/$p\""$'\n'
  done
  cat > main.go <<GO
package main

import (
	"github.com/coredns/coredns/coremain"
$imports)

func main() { coremain.Run() }
GO
  go get "github.com/coredns/coredns@$COREDNS_VERSION" >/dev/null
  go mod tidy >/dev/null
  log "building coredns $COREDNS_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$out/coredns" .
}

kind_build() {
  local out=$1
  go get "sigs.k8s.io/kind@$KIND_VERSION" >/dev/null
  log "building kind $KIND_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$out/kind" sigs.k8s.io/kind
}

# Skiff's fake GPU device plugin (fake-gpu-plugin/main.go), on the device-plugin stub of
# KUBERNETES_VERSION's kubelet.
fake_gpu_plugin_build() {
  local out=$1
  require_kubernetes
  cp "$here/fake-gpu-plugin/main.go" .
  go mod tidy >/dev/null
  log "building fake-gpu-plugin on the device-plugin stub of Kubernetes $KUBERNETES_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$out/fake-gpu-plugin" .
}

# Kubernetes' DRA test driver: a kubelet plugin that publishes a node's devices as ResourceSlices
# and hands allocated ones to containers as CDI specs (the fake-gpu profile's GPUs with --dra).
dra_driver_build() {
  local out=$1
  require_kubernetes
  go get -tool "k8s.io/kubernetes/test/e2e/dra/test-driver@$KUBERNETES_VERSION" >/dev/null
  log "building Kubernetes' DRA test driver ($KUBERNETES_VERSION)"
  go build -trimpath -ldflags "-s -w" -o "$out/dra-test-driver" k8s.io/kubernetes/test/e2e/dra/test-driver
}

# containerd 1.7 for the node, in place of Debian's 1.6, which has no CDI (how DRA drivers hand
# devices to containers). Static: the snapshotters that need cgo are left out (the node uses overlayfs).
CONTAINERD_CMDS=(containerd containerd-shim-runc-v2 ctr)
containerd_build() {
  local out=$1 c
  for c in "${CONTAINERD_CMDS[@]}"; do go get -tool "github.com/containerd/containerd/cmd/$c@$CONTAINERD_VERSION" >/dev/null; done
  for c in "${CONTAINERD_CMDS[@]}"; do
    log "building $c $CONTAINERD_VERSION"
    go build -trimpath -tags "no_btrfs no_devmapper no_zfs no_aufs osusergo netgo" \
      -ldflags "-s -w -X github.com/containerd/containerd/version.Version=${CONTAINERD_VERSION#v}" -o "$out/$c" "github.com/containerd/containerd/cmd/$c"
  done
}

# The toolkit's CDI mode needs only these (no libnvidia-container): nvidia-ctk writes the CDI spec
# from the driver, the runtime applies it, nvidia-cdi-hook is the spec's hook. go-nvml opens
# libnvidia-ml at run time, hence cgo: the binaries must not need a newer glibc than the node's.
NODE_GLIBC=2.36 # Debian bookworm's
nvidia_toolkit_build() {
  local out=$1 c needs
  go get "github.com/NVIDIA/nvidia-container-toolkit@$NVIDIA_CTK_VERSION" >/dev/null
  local ld="-s -w -X github.com/NVIDIA/nvidia-container-toolkit/internal/info.version=${NVIDIA_CTK_VERSION#v}"
  for c in nvidia-ctk nvidia-container-runtime nvidia-cdi-hook; do
    log "building $c $NVIDIA_CTK_VERSION"
    CGO_ENABLED=1 go build -trimpath -ldflags "$ld" -o "$out/$c" "github.com/NVIDIA/nvidia-container-toolkit/cmd/$c"
    needs=$(objdump -T "$out/$c" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
    if [ "$(printf '%s\n%s\n' "$needs" "$NODE_GLIBC" | sort -V | tail -1)" != "$NODE_GLIBC" ]; then
      log "$c needs glibc $needs, newer than the node's $NODE_GLIBC: build on Debian $DEBIAN_SUITE (or older)"; exit 1
    fi
  done
}

for c in "${components[@]}"; do
  case $c in
    kubernetes) build_into "$cache/bin/kubernetes-$KUBERNETES_VERSION" kubernetes_build ;;
    etcd) build_into "$cache/bin/etcd-$ETCD_VERSION" etcd_build ;;
    coredns) build_into "$cache/bin/coredns-$COREDNS_VERSION" coredns_build ;;
    kind) build_into "$cache/bin/kind-$KIND_VERSION" kind_build ;;
    nvidia-toolkit) build_into "$cache/bin/nvidia-toolkit-$NVIDIA_CTK_VERSION" nvidia_toolkit_build ;;
    fake-gpu-plugin) build_into "$cache/bin/fake-gpu-plugin-${FAKE_GPU_PLUGIN_IMAGE##*:}" fake_gpu_plugin_build ;;
    dra-driver) build_into "$cache/bin/dra-test-driver-${DRA_DRIVER_IMAGE##*:}" dra_driver_build ;;
    containerd) build_into "$cache/bin/containerd-$CONTAINERD_VERSION" containerd_build ;;
    *) echo "unknown component $c" >&2; exit 2 ;;
  esac
done
