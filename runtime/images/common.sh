# Sourced by the image recipes (which set $here and $cache): pinned versions, progress
# logging, and a cached Debian root filesystem tarball per package set.
source "$here/versions.env"
log() { printf '[skiff images] %s\n' "$*" >&2; }

# rootfs_tar NAME "pkg,pkg,..." [SUITE] -> prints the path of $cache/rootfs/NAME-<suite>-<hash>.tar
rootfs_tar() {
  local name=$1 packages=$2 suite=${3:-$DEBIAN_SUITE}
  local key; key=$(printf '%s %s %s' "$suite" "$packages" "$ROOTFS_RECIPE" | sha256sum | cut -c1-12)
  local tar="$cache/rootfs/$name-$suite-$key.tar"
  if [ -f "$tar" ]; then log "cached: $tar"; echo "$tar"; return; fi
  command -v debootstrap >/dev/null || { log "installing debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  mkdir -p "$cache/rootfs"
  local dir; dir=$(mktemp -d "$cache/rootfs/.$name.XXXX")
  mkdir -p "$cache/debs"
  log "debootstrap $name ($suite: $packages)"
  if ! debootstrap --variant=minbase --cache-dir="$cache/debs" --include="$packages" \
      "$suite" "$dir" "$DEBIAN_MIRROR" > "$dir.log" 2>&1; then
    tail -20 "$dir.log" >&2; log "debootstrap of $name failed; full log: $dir.log"; return 1
  fi
  rm -f "$dir.log"
  # apt lists and caches only make the image bigger
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/*
  tar -C "$dir" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
  rm -rf "$dir"
  echo "$tar"
}

# Go from the module proxy, with its caches under $cache; static binaries.
go_env() {
  export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
  export GOPATH=${GOPATH:-$cache/gopath} GOCACHE=${GOCACHE:-$cache/gocache}
  mkdir -p "$cache/bin"
  command -v go >/dev/null || { echo "skiff images: Go is needed to build the cluster binaries offline (apt-get install golang or https://go.dev/dl)" >&2; exit 3; }
}

# build_into OUT FUNCTION: runs FUNCTION OUT.tmp in a fresh wrapper module; OUT appears only when
# everything succeeded, so an interrupted build is redone and a finished one never is.
build_into() {
  local out=$1; shift
  if [ -e "$out/.done" ]; then log "cached: $out"; return; fi
  rm -rf "$out" "$out.tmp"; mkdir -p "$out.tmp"
  local mod; mod=$(mktemp -d)
  ( cd "$mod" && go mod init skiff.local/build >/dev/null 2>&1 && "$@" "$out.tmp" )
  rm -rf "$mod"; touch "$out.tmp/.done"; mv "$out.tmp" "$out"
}
