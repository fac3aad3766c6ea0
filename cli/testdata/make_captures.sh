#!/bin/sh
# Copyright 2026 the @sidecar/ipc authors. MIT license.
# Regenerates the hgrpc captures used by cli/hg_test.ts with Mercurial's own
# clientreactor (requests) and serverreactor (responses), zstd-8mb offered.
set -e
cd "$(dirname "$0")"
PY=${PYTHON:-/usr/bin/python3}
# Mercurial's reactors driven over stdin/stdout (the framing tests' scripts).
HG=../../framing/testdata
tmp=$(mktemp -d)
cat > "$tmp/calls.json" <<'JSON'
[["echo", {"foo": "bar"}, null], ["many", {"count": 3}, null],
 ["chunks", {}, null], ["digest", {}, 100]]
JSON
"$PY" "$HG/hg_client.py" "$tmp/results.json" zstd-8mb,zlib,identity "$tmp/calls.json" \
  < /dev/null > hg_requests.bin
"$PY" "$HG/hg_server.py" < hg_requests.bin > hg_responses_zstd.bin
rm -rf "$tmp"
