#!/usr/bin/env bash
# The Guild's Federation gateway audit (@graphql-hive/federation-gateway-audit: 46 test groups,
# 199 tests) against `npx yiwang gateway --supergraph <file> --port N`.
#
#   bash bench/federation-audit.sh                 every group (the audit's `test` command)
#   bash bench/federation-audit.sh requires-circular partial-union
#                                                  only these groups (its `test-suite` command)
#   YIWANG_DIR=/other/checkout bash bench/federation-audit.sh
#                                                  audit another checkout (its node_modules installed)
#
# The audit is installed into a scratch directory outside the repository (FEDERATION_AUDIT_DIR,
# default ${TMPDIR:-/tmp}/yiwang-federation-audit), pinned to version 0.0.3: from the npm registry
# when it serves that version, otherwise built from a checkout of the audit's repository at the
# commit that released it (FEDERATION_AUDIT_SRC: a git directory holding that commit, or a plain
# directory of the source tree; its runtime dependencies come from the npm registry at the versions
# of its lock file, its TypeScript is transpiled file by file with esbuild).
#
# Like the audit's own gateways/<name>/run.sh, the audit serves every group's subgraphs on
# AUDIT_PORT (default 4200) and, for each group, runs a script that fetches the group's supergraph
# and starts the gateway on AUDIT_GATEWAY_PORT (default 4440; the audit frees that port before each
# group by killing whatever listens on it, so it must be one nothing else uses). The gateway gets
# only the environment it needs: throwaway secrets, an IdP issuer nobody listens on (the audit
# sends no tokens, so the JWKS is never fetched), the in-process cache instead of Redis, and
# the default limits. Its requests are anonymous and reach what the supergraph leaves public; the
# audit's subgraphs ignore the gateway's identity assertion.
#
# Prints `passed X / N` and the failing test ids (`<group>_<index>`, the audit's own test names);
# exits 1 when a test failed. Logs: <scratch>/gateway/logs/<group>-{gateway,tests}.log.
set -euo pipefail

AUDIT_VERSION=0.0.3
AUDIT_COMMIT=f59c05e3f48f4a4f8e8a731d67a1b71a9788a96f # graphql-hive/federation-gateway-audit, "Upcoming Release Changes (#346)" = 0.0.3
ESBUILD_VERSION=0.25.12

YIWANG_DIR=$(cd "${YIWANG_DIR:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)
WORK=${FEDERATION_AUDIT_DIR:-${TMPDIR:-/tmp}/yiwang-federation-audit}
AUDIT_PORT=${AUDIT_PORT:-4200}
GATEWAY_PORT=${AUDIT_GATEWAY_PORT:-4440}
NODE=$YIWANG_DIR/node_modules/.bin/node # Node 24 from the project's `node` devDependency

die() { echo "federation-audit: $*" >&2; exit 2; }
[ -x "$NODE" ] || die "no $NODE: run npm ci in $YIWANG_DIR first"
[ -f "$YIWANG_DIR/gateway/cli.ts" ] || die "$YIWANG_DIR has no gateway/cli.ts (yiwang gateway)"
export PATH="$YIWANG_DIR/node_modules/.bin:$PATH" # npm and npx run under that node too
mkdir -p "$WORK"

# --- install the audit -------------------------------------------------------------------------
PKG=$WORK/pkg
CLI=$PKG/node_modules/@graphql-hive/federation-gateway-audit/dist/cli.js
BUILD=$WORK/build
installed_version() { "$NODE" -p "require('$1/package.json').version" 2>/dev/null || true; }

install_from_registry() {
  mkdir -p "$PKG"
  [ -f "$PKG/package.json" ] || echo '{ "private": true }' > "$PKG/package.json"
  (cd "$PKG" && npm install --no-save --no-audit --no-fund --loglevel=error \
    "@graphql-hive/federation-gateway-audit@$AUDIT_VERSION" graphql@16.14.0) >"$WORK/install.log" 2>&1
}

# The audit's source tree at AUDIT_COMMIT into $1 (package.json, package-lock.json, src/).
extract_source() {
  local src=${FEDERATION_AUDIT_SRC:-}
  if [ -z "$src" ] && [ -e ../federation-gateway-audit ]; then src=../federation-gateway-audit; fi
  if [ -z "$src" ]; then
    # No local copy: clone the audit's repository (outside the repository, beside the scratch install).
    src="$WORK/source"
    [ -d "$src/.git" ] || git clone --quiet --filter=blob:none https://github.com/graphql-hive/federation-gateway-audit.git "$src" >>"$WORK/install.log" 2>&1 || return 1
  fi
  if git --git-dir="$src" cat-file -e "$AUDIT_COMMIT^{commit}" 2>/dev/null; then
    git --git-dir="$src" archive "$AUDIT_COMMIT" package.json package-lock.json src | tar -x -C "$1"
  elif git -C "$src" cat-file -e "$AUDIT_COMMIT^{commit}" 2>/dev/null; then
    git -C "$src" archive "$AUDIT_COMMIT" package.json package-lock.json src | tar -x -C "$1"
  elif [ -f "$src/package.json" ] && [ -d "$src/src" ]; then
    cp -R "$src/package.json" "$src/package-lock.json" "$src/src" "$1/"
  else
    return 1
  fi
}

build_from_source() {
  rm -rf "$BUILD" && mkdir -p "$BUILD"
  extract_source "$BUILD" || die "the npm registry does not serve @graphql-hive/federation-gateway-audit@$AUDIT_VERSION (see $WORK/install.log) and no source was found: set FEDERATION_AUDIT_SRC to a clone of github.com/graphql-hive/federation-gateway-audit"
  local v; v=$(installed_version "$BUILD")
  [ "$v" = "$AUDIT_VERSION" ] || die "the source in ${FEDERATION_AUDIT_SRC:-the clone} is version $v, not $AUDIT_VERSION"
  # Runtime dependencies at the versions of the audit's lock file (its dev tree is not needed).
  (cd "$BUILD" && "$NODE" -e '
    const fs = require("fs");
    const pkg = require("./package.json"), lock = require("./package-lock.json");
    const deps = {};
    for (const d of [...Object.keys(pkg.dependencies), "graphql"]) deps[d] = lock.packages["node_modules/" + d].version;
    deps.esbuild = process.argv[1];
    fs.writeFileSync("package.json", JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: "module", bin: pkg.bin, dependencies: deps }, null, 2));
    fs.rmSync("package-lock.json");
  ' "$ESBUILD_VERSION")
  (cd "$BUILD" && npm install --no-audit --no-fund --loglevel=error) >>"$WORK/install.log" 2>&1 || die "npm install of the audit's dependencies failed: $WORK/install.log"
  (cd "$BUILD" && node_modules/.bin/esbuild $(find src -name '*.ts') --outdir=dist --format=esm --platform=node --target=node22 --log-level=warning) \
    || die "esbuild could not transpile the audit"
  CLI=$BUILD/dist/cli.js
}

if [ "$(installed_version "$PKG/node_modules/@graphql-hive/federation-gateway-audit")" = "$AUDIT_VERSION" ]; then
  :
elif [ "$(installed_version "$BUILD")" = "$AUDIT_VERSION" ] && [ -f "$BUILD/dist/cli.js" ] && [ -d "$BUILD/node_modules/graphql-yoga" ]; then
  CLI=$BUILD/dist/cli.js
elif install_from_registry; then
  :
else
  echo "federation-audit: @graphql-hive/federation-gateway-audit@$AUDIT_VERSION is not on the registry here; building it from source" >&2
  build_from_source
fi

# --- the per-group gateway script ----------------------------------------------------------------
GW=$WORK/gateway
mkdir -p "$GW"
rm -rf "$GW/logs" "$GW/reports" "$GW/data" "$GW/results.txt"
secret() { "$NODE" -p "require('crypto').randomBytes(32).toString('base64url')"; }
umask 077
cat > "$GW/run.sh" <<EOF
#!/bin/sh
# Written by bench/federation-audit.sh; the audit runs it as \`sh run.sh <group>\` in this directory.
set -e
"$NODE" "$CLI" supergraph --cwd "$GW" --test "\$1" --port $AUDIT_PORT
cd "$YIWANG_DIR"
exec env -i PATH="$PATH" HOME="$HOME" \\
  NODE_ENV=development LOG_LEVEL=warn DATA_DIR="$GW/data" \\
  IDP_ISSUER=http://127.0.0.1:9 GATEWAY_RESOURCE=http://127.0.0.1:$GATEWAY_PORT/graphql \\
  YIWANG_INTERNAL_SECRET=$(secret) KEY_PASSPHRASE=$(secret) IDP_COOKIE_KEYS=$(secret) \\
  npx --no-install yiwang gateway --supergraph "$GW/supergraph.graphql" --port $GATEWAY_PORT --host 127.0.0.1
EOF
umask 022

# --- run -----------------------------------------------------------------------------------------
common=(--cwd "$GW" --run-script ./run.sh --port "$AUDIT_PORT"
  --graphql "http://127.0.0.1:$GATEWAY_PORT/graphql" --healthcheck "http://127.0.0.1:$GATEWAY_PORT/healthz")
echo "federation-audit: $("$NODE" "$CLI" --version) against $YIWANG_DIR ($(git -C "$YIWANG_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')$( [ -n "$(git -C "$YIWANG_DIR" status --porcelain 2>/dev/null)" ] && echo ', with uncommitted changes'))"
cd "$GW"
# How long the audit waits for the gateway's health check per group (its default, 5 s, is about what
# npx and the gateway's start take on a small machine).
export GATEWAY_TIMEOUT=${GATEWAY_TIMEOUT:-60000}
# The audit repository's .env (its subgraphs fail plans that skip a @provides only when this is 1).
export PUNISH_FOR_POOR_PLANS=${PUNISH_FOR_POOR_PLANS:-0}
if [ $# -eq 0 ]; then
  "$NODE" "$CLI" test "${common[@]}" --reporter dot --write results.txt || true
  [ -f results.txt ] || die "the audit stopped before writing $GW/results.txt"
  mapfile -t groups < <(sed -n '/^---$/q;p' results.txt | awk 'NR % 2 == 1 && $0 != ""')
else
  groups=("$@")
  for g in "${groups[@]}"; do "$NODE" "$CLI" test-suite "${common[@]}" --test "$g" --reporter dot || true; done
fi

# --- summary from the TAP logs (test names are <group>_<index>) ------------------------------------
passed=0 total=0 failing=()
for g in "${groups[@]}"; do
  log=$GW/logs/$g-tests.log
  [ -f "$log" ] || { failing+=("$g (no test log)"); continue; }
  before=$total
  while read -r verdict name; do
    total=$((total + 1))
    if [ "$verdict" = ok ]; then passed=$((passed + 1)); else failing+=("$name"); fi
  done < <(sed -nE "s/^ +(not ok|ok) [0-9]+ - ($g"'_[0-9]+)$/\1 \2/p' "$log" | sed 's/^not ok/not_ok/')
  [ "$total" -gt "$before" ] || failing+=("$g (no test ran: $log)")
done
echo
echo "passed $passed / $total"
if [ ${#failing[@]} -gt 0 ]; then
  echo "failing: ${failing[*]}"
  exit 1
fi
