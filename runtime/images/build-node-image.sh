#!/usr/bin/env bash
# A kind node image built offline: what `kind build node-image` makes, but from Debian's
# packages and binaries built from the Go module proxy (build-binaries.sh), with every
# control-plane image preloaded under the names kubeadm and kind ask for, so no pull happens.
# Usage: build-node-image.sh CACHE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$1
source "$here/common.sh"
export DOCKER_BUILDKIT=0 # the classic builder works with any engine and no buildx plugin
# The fake GPU plugin's image stays in Docker beside the node image, for node images without it.
if docker image inspect "$NODE_IMAGE" "$FAKE_GPU_PLUGIN_IMAGE" "$DRA_DRIVER_IMAGE" >/dev/null 2>&1; then log "cached: $NODE_IMAGE"; exit 0; fi

bash "$here/build-binaries.sh" "$cache"
k8s=$cache/bin/kubernetes-$KUBERNETES_VERSION
etcd=$cache/bin/etcd-$ETCD_VERSION
coredns=$cache/bin/coredns-$COREDNS_VERSION
nvtk=$cache/bin/nvidia-toolkit-$NVIDIA_CTK_VERSION
fake_gpu=$cache/bin/fake-gpu-plugin-${FAKE_GPU_PLUGIN_IMAGE##*:}
dra_driver=$cache/bin/dra-test-driver-${DRA_DRIVER_IMAGE##*:}
containerd=$cache/bin/containerd-$CONTAINERD_VERSION
work=$(mktemp -d); trap 'rm -rf "$work"; docker rm -f skiff-node-build >/dev/null 2>&1 || true' EXIT

# docker_build TAG CONTEXT, quiet unless it fails
docker_build() {
  docker build -q -t "$1" "$2" > "$work/build.log" 2>&1 || { cat "$work/build.log" >&2; return 1; }
}
# import_rootfs TAR TAG: a Docker image from a cached root filesystem
import_rootfs() {
  docker image inspect "$2" >/dev/null 2>&1 && return
  docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$1" "$2" >/dev/null
}
# component_image TAG BASE ENTRYPOINT_JSON FILE...: BASE plus FILEs in /usr/local/bin
component_image() {
  local tag=$1 base=$2 entrypoint=$3; shift 3
  local ctx; ctx=$(mktemp -d "$work/ctx.XXXX")
  cp "$@" "$ctx/"
  {
    echo "FROM $base"
    echo "COPY . /usr/local/bin/"
    echo "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    [ -n "$entrypoint" ] && echo "ENTRYPOINT $entrypoint"
  } > "$ctx/Dockerfile"
  log "image $tag"
  docker_build "$tag" "$ctx"
}

# 1. Control-plane and add-on images.
net_tar=$(rootfs_tar net iptables,nftables,conntrack,iproute2)
net_image=skiff.local/debian-net:$(basename "$net_tar" .tar)
import_rootfs "$net_tar" "$net_image"
gcc -Os -static -o "$work/pause" "$here/node/pause.c"
reg=registry.k8s.io
v=$KUBERNETES_VERSION
component_image "$reg/kube-apiserver:$v" scratch '' "$k8s/kube-apiserver"
component_image "$reg/kube-controller-manager:$v" scratch '' "$k8s/kube-controller-manager"
component_image "$reg/kube-scheduler:$v" scratch '' "$k8s/kube-scheduler"
component_image "$reg/kube-proxy:$v" "$net_image" '' "$k8s/kube-proxy"
component_image "$reg/etcd:$ETCD_IMAGE_TAG" scratch '' "$etcd/etcd"
component_image "$reg/coredns/coredns:$COREDNS_VERSION" scratch '["/usr/local/bin/coredns"]' "$coredns/coredns"
component_image "$reg/pause:$PAUSE_TAG" scratch '["/usr/local/bin/pause"]' "$work/pause"
# Skiff's fake GPU device plugin, which the fake-gpu profile runs as a DaemonSet (manifests/gpu.ts).
# It stays in this machine's Docker too, for node images that lack it.
component_image "$FAKE_GPU_PLUGIN_IMAGE" scratch '' "$fake_gpu/fake-gpu-plugin"
# Kubernetes' DRA test driver, which the fake-gpu profile runs with --dra (manifests/dra.ts).
component_image "$DRA_DRIVER_IMAGE" scratch '["/usr/local/bin/dra-test-driver"]' "$dra_driver/dra-test-driver"
images=("$reg/kube-apiserver:$v" "$reg/kube-controller-manager:$v" "$reg/kube-scheduler:$v"
  "$reg/kube-proxy:$v" "$reg/etcd:$ETCD_IMAGE_TAG" "$reg/coredns/coredns:$COREDNS_VERSION"
  "$reg/pause:$PAUSE_TAG" "$FAKE_GPU_PLUGIN_IMAGE" "$DRA_DRIVER_IMAGE")
# kubeadm is the authority on what it will run: fail here, not at `kind create cluster`.
for want in $("$k8s/kubeadm" config images list --kubernetes-version "$v" 2>/dev/null); do
  printf '%s\n' "${images[@]}" | grep -qxF "$want" || { log "kubeadm wants $want, which this recipe does not build"; exit 1; }
done

# 2. The node's root filesystem with Kubernetes and Skiff's unit files. The pod network is
# configured by Skiff after creation (static routes), so no CNI add-on image is needed.
node_tar=$(rootfs_tar node systemd,dbus,containerd,runc,containernetworking-plugins,iptables,nftables,conntrack,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,jq,procps,socat,ebtables)
node_base=skiff.local/node-rootfs:$(basename "$node_tar" .tar)
import_rootfs "$node_tar" "$node_base"
ctx=$work/node; mkdir -p "$ctx"
cp "$k8s/kubeadm" "$k8s/kubelet" "$k8s/kubectl" "$here"/node/* "$ctx/"
cp "$nvtk/nvidia-ctk" "$nvtk/nvidia-container-runtime" "$nvtk/nvidia-cdi-hook" "$ctx/"
cp "$containerd/containerd" "$containerd/containerd-shim-runc-v2" "$containerd/ctr" "$ctx/"
# NVIDIA's container toolkit in CDI mode: on the gpu profile Skiff gives containerd the nvidia
# runtime and writes the CDI spec from the driver (manifests/gpu-node.ts); nothing is fetched.
cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM $node_base
COPY kubeadm kubelet kubectl /usr/bin/
# containerd $CONTAINERD_VERSION over Debian's 1.6 (whose package still brings runc and the CNI plugins).
COPY containerd containerd-shim-runc-v2 ctr /usr/bin/
COPY nvidia-ctk nvidia-container-runtime nvidia-cdi-hook /usr/bin/
RUN set -e; chmod 0755 /usr/bin/nvidia-ctk /usr/bin/nvidia-container-runtime /usr/bin/nvidia-cdi-hook; \
  mkdir -p /etc/nvidia-container-runtime; \
  nvidia-ctk config default --output=/etc/nvidia-container-runtime/config.toml; \
  nvidia-ctk config --in-place --set nvidia-container-runtime.mode=cdi
COPY entrypoint /usr/local/bin/entrypoint
COPY containerd.toml /etc/containerd/config.toml
COPY containerd.service kubelet.service kubelet.slice /etc/systemd/system/
COPY 10-kubeadm.conf /etc/systemd/system/kubelet.service.d/10-kubeadm.conf
COPY default-kubelet /etc/default/kubelet
RUN set -e; chmod 0755 /usr/local/bin/entrypoint /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl; \
  rm -f /lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service \
    /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
    /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
    /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*; \
  echo ReadKMsg=no >> /etc/systemd/journald.conf; ln -sf /lib/systemd/systemd /sbin/init; \
  systemctl enable kubelet.service containerd.service; systemctl mask systemd-binfmt.service; \
  mkdir -p /etc/kubernetes/manifests /etc/cni/net.d /opt/cni /kind; ln -sfn /usr/lib/cni /opt/cni/bin; \
  echo $KUBERNETES_VERSION > /kind/version
ENV container=docker
DOCKERFILE
log "node stage image"
docker_build "$NODE_IMAGE-stage" "$ctx"

# 3. Preload the images into the node's containerd (content only: layers unpack at run time,
# on the node's /var volume, where overlayfs works).
log "preloading ${#images[@]} images into the node"
docker rm -f skiff-node-build >/dev/null 2>&1 || true
docker run -d --name skiff-node-build --privileged --entrypoint /bin/sleep "$NODE_IMAGE-stage" infinity >/dev/null
docker exec -d skiff-node-build /usr/bin/containerd
for _ in $(seq 30); do docker exec skiff-node-build ctr version >/dev/null 2>&1 && break; sleep 1; done
docker save "${images[@]}" | docker exec -i skiff-node-build ctr --namespace=k8s.io images import \
  --no-unpack --all-platforms --digests - >/dev/null
docker exec skiff-node-build ctr --namespace=k8s.io images tag "$reg/pause:$PAUSE_TAG" "$reg/pause:3.10" >/dev/null
docker exec skiff-node-build sh -c 'kill $(pidof containerd); while pidof containerd >/dev/null; do sleep 0.2; done'
docker commit -c 'ENTRYPOINT ["/usr/local/bin/entrypoint"]' -c 'CMD ["/sbin/init"]' \
  skiff-node-build "$NODE_IMAGE" >/dev/null
docker rm -f skiff-node-build >/dev/null
docker rmi "$NODE_IMAGE-stage" >/dev/null
log "built $NODE_IMAGE ($(docker image inspect -f '{{.Size}}' "$NODE_IMAGE" | numfmt --to=iec))"
