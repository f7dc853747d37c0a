#!/usr/bin/env bash
# End-to-end test: starts `tessera standalone` on a temporary data directory and a free
# port, waits for GET /readyz == 200, runs sdk_session.test.mjs (Milvus Node SDK
# HttpClient) against it, stops the server, and exits with the test's status.
#
#   tests/e2e/node/run.sh <path-to-tessera-binary> [extra `node --test` arguments...]
#
# Exit status: the test's status; 2 when the setup fails (bad arguments, no node/npm,
# `npm ci` failed, server never became ready). Never skips.
#
# Environment (all optional):
#   TESSERA_E2E_READY_TIMEOUT   seconds to wait for /readyz            (default 60)
#   TESSERA_E2E_STOP_TIMEOUT    seconds between SIGTERM and SIGKILL    (default 30)
#   TESSERA_E2E_KEEP=1          keep the temporary directory (data + server.log)
#   TESSERA_LOGGING_LEVEL, TESSERA_SIMD_LEVEL are passed to the server; every other
#   TESSERA_* variable of the caller is removed from the server's environment so that
#   nothing outside the temporary directory is touched.
set -uo pipefail

die() {
  echo "run.sh: ERROR: $*" >&2
  exit 2
}
log() { echo "run.sh: $*" >&2; }

[[ $# -ge 1 ]] || die "usage: $0 <path-to-tessera-binary> [node --test args...]"
bin_arg=$1
shift
[[ -e "$bin_arg" ]] || die "tessera binary '$bin_arg' does not exist (build it first)"
[[ -f "$bin_arg" && -x "$bin_arg" ]] || die "tessera binary '$bin_arg' is not an executable file"
bin=$(cd "$(dirname "$bin_arg")" && pwd)/$(basename "$bin_arg")

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here" || die "cannot cd to $here"

ready_timeout=${TESSERA_E2E_READY_TIMEOUT:-60}
stop_timeout=${TESSERA_E2E_STOP_TIMEOUT:-30}

# --- node and the SDK --------------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "node is not installed (Node.js >= 20 is required)"
node_major=$(node -p 'process.versions.node.split(".")[0]') || die "cannot run node"
[[ "$node_major" -ge 20 ]] || die "Node.js >= 20 is required, found $(node --version)"

sdk_installed() {
  # node_modules holds exactly the SDK version pinned in package.json
  node -e '
    const fs = require("fs");
    const want = JSON.parse(fs.readFileSync("package.json", "utf8"))
      .dependencies["@zilliz/milvus2-sdk-node"];
    const got = JSON.parse(fs.readFileSync(
      "node_modules/@zilliz/milvus2-sdk-node/package.json", "utf8")).version;
    process.exit(got === want ? 0 : 1);' 2>/dev/null
}
if ! sdk_installed; then
  command -v npm >/dev/null 2>&1 || die "npm is not installed; cannot install the Milvus Node SDK"
  log "installing the Milvus Node SDK from package-lock.json (npm ci) in $here"
  if ! npm ci --no-audit --no-fund >&2; then
    die "'npm ci --no-audit --no-fund' failed in $here; the Milvus Node SDK could not be" \
        "installed (is the npm registry reachable?). The end-to-end test cannot run."
  fi
  sdk_installed || die "npm ci succeeded but @zilliz/milvus2-sdk-node is still missing"
fi

# --- temporary directory, port ------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tessera-e2e.XXXXXX") || die "mktemp failed"
server_pid=
server_log=$tmp/server.log

stop_server() {
  [[ -n "$server_pid" ]] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    local deadline=$((SECONDS + stop_timeout))
    while kill -0 "$server_pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$server_pid" 2>/dev/null; then
      log "WARNING: server (pid $server_pid) still running ${stop_timeout}s after SIGTERM;" \
          "sending SIGKILL"
      kill -KILL "$server_pid" 2>/dev/null
    fi
  fi
  wait "$server_pid" 2>/dev/null
  local rc=$?
  [[ $rc -eq 0 ]] || log "WARNING: server exited with status $rc after SIGTERM"
  server_pid=
}

# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
  stop_server
  if [[ "${TESSERA_E2E_KEEP:-0}" == 1 ]]; then
    log "kept $tmp (data/ and server.log)"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1]); s.close()'
  else
    node -e 'const s = require("net").createServer();
      s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
  fi
}

http_status() {  # prints the HTTP status of GET $1, or 000
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true
  else
    node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
      .then((r) => console.log(r.status), () => console.log("000"))' "$1"
  fi
}

print_server_log() {
  echo "----- server log ($server_log) -----" >&2
  if [[ -s "$server_log" ]]; then tail -n "${1:-200}" "$server_log" >&2; else echo "(empty)" >&2; fi
  echo "----- end of server log -----" >&2
}

# --- start the server ---------------------------------------------------------------------
start_server() {
  port=$(free_port) || die "cannot pick a free port"
  mkdir -p "$tmp/data"
  local unset_args=()
  local v
  for v in $(compgen -e); do
    case $v in
      TESSERA_LOGGING_LEVEL | TESSERA_SIMD_LEVEL) ;;
      TESSERA_*) unset_args+=(-u "$v") ;;
    esac
  done
  log "starting $bin standalone --data-dir $tmp/data --port $port"
  env "${unset_args[@]}" \
    TESSERA_SERVER_ADDRESS=127.0.0.1 \
    TESSERA_DATANODE_SEAL_IDLE_TIME=1s \
    TESSERA_SERVER_SHUTDOWN_TIMEOUT=10s \
    "$bin" standalone --data-dir "$tmp/data" --port "$port" >"$server_log" 2>&1 &
  server_pid=$!
}

wait_ready() {  # 0 ready, 1 server exited, 2 deadline passed
  local deadline=$((SECONDS + ready_timeout))
  while ((SECONDS < deadline)); do
    kill -0 "$server_pid" 2>/dev/null || return 1
    [[ "$(http_status "http://127.0.0.1:$port/readyz")" == 200 ]] && return 0
    sleep 0.2
  done
  return 2
}

for attempt in 1 2 3; do
  start_server
  wait_ready
  ready=$?
  ((ready == 0)) && break
  if ((ready == 1)); then
    wait "$server_pid" 2>/dev/null
    rc=$?
    server_pid=
    # the port was taken between picking and binding: try another one
    if ((attempt < 3)) && grep -qi 'address already in use\|EADDRINUSE' "$server_log"; then
      log "port $port was taken; retrying with another port"
      continue
    fi
    print_server_log
    die "the server exited with status $rc before /readyz answered 200"
  fi
  print_server_log
  die "the server did not answer GET /readyz with 200 within ${ready_timeout}s" \
      "(last status: $(http_status "http://127.0.0.1:$port/readyz"))"
done
log "server ready on http://127.0.0.1:$port (pid $server_pid)"

# --- run the test -------------------------------------------------------------------------
TESSERA_ENDPOINT="http://127.0.0.1:$port" \
  node --test --test-reporter=spec "$@" sdk_session.test.mjs
status=$?

if ((status != 0)); then
  log "the end-to-end test FAILED (status $status)"
  print_server_log 200
else
  log "the end-to-end test passed"
fi
stop_server
exit "$status"
