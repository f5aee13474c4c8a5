#!/usr/bin/env bash
# Installs the real VS Code workbench for end-to-end tests without downloading VS Code: code-server
# from npm (its last release that runs on Node 20), its native modules rebuilt here, plus Debian's
# Chromium and ripgrep. Cached by version; prints the code-server folder.
set -euo pipefail
log() { printf '[ensure-code-server] %s\n' "$*" >&2; }
VERSION=4.100.3
cache=${SKIFF_CACHE_DIR:-$HOME/.cache/skiff}
dir="$cache/code-server-$VERSION"
need_apt=()
bash "$(dirname "$0")/ensure-chromium.sh"
command -v rg >/dev/null || need_apt+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ ! -f "$dir/.done" ]; then
  log "installing code-server $VERSION into $dir (a few minutes, once)"
  rm -rf "$dir" && mkdir -p "$dir"
  cd "$dir"
  echo '{"private":true}' > package.json
  npm install --no-audit --no-fund --ignore-scripts "code-server@$VERSION" >/dev/null
  cd node_modules/code-server/lib/vscode
  npm install --no-audit --no-fund --omit=dev --ignore-scripts >/dev/null
  mkdir -p node_modules/@vscode/ripgrep/bin && cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  npm_config_yes=true npm rebuild @parcel/watcher @vscode/spdlog node-pty native-watchdog >/dev/null 2>&1 || log "some optional native modules did not rebuild"
  ln -sfn node_modules node_modules.asar
  cd "$dir"
  # code-server loads argon2 at start-up, whatever the auth mode; it has no prebuilt binary here.
  npm_config_yes=true npm rebuild argon2 --build-from-source >/dev/null
  [ -f node_modules/argon2/lib/binding/napi-v3/argon2.node ] || { log "argon2 did not build"; exit 1; }
  touch "$dir/.done"
fi
echo "$dir/node_modules/code-server"
