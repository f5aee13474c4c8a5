# Sourced by the image recipes (which set $here and $cache): pinned versions, progress
# logging, and a cached Debian root filesystem tarball per package set.
source "$here/versions.env"
log() { printf '[skiff images] %s\n' "$*" >&2; }

# rootfs_tar NAME "pkg,pkg,..." -> prints the path of $cache/rootfs/NAME-<suite>-<hash>.tar
rootfs_tar() {
  local name=$1 packages=$2
  local key; key=$(printf '%s %s %s' "$DEBIAN_SUITE" "$packages" "$ROOTFS_RECIPE" | sha256sum | cut -c1-12)
  local tar="$cache/rootfs/$name-$DEBIAN_SUITE-$key.tar"
  if [ -f "$tar" ]; then log "cached: $tar"; echo "$tar"; return; fi
  command -v debootstrap >/dev/null || { log "installing debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  mkdir -p "$cache/rootfs"
  local dir; dir=$(mktemp -d "$cache/rootfs/.$name.XXXX")
  mkdir -p "$cache/debs"
  log "debootstrap $name ($DEBIAN_SUITE: $packages)"
  if ! debootstrap --variant=minbase --cache-dir="$cache/debs" --include="$packages" \
      "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" > "$dir.log" 2>&1; then
    tail -20 "$dir.log" >&2; log "debootstrap of $name failed; full log: $dir.log"; return 1
  fi
  rm -f "$dir.log"
  # apt lists and caches only make the image bigger
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/*
  tar -C "$dir" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
  rm -rf "$dir"
  echo "$tar"
}
