"""Serve a small real model on 127.0.0.1 with llama.cpp's own HTTP server
(through the prebuilt `xllamacpp` wheel: no compiler, no download at run
time). It speaks OpenAI's Chat Completions (/v1/chat/completions) and
Anthropic's Messages API (/v1/messages). Started by scripts/local-model.sh.

Usage: python local_model_server.py --model PATH [--host 127.0.0.1]
        [--port 8089] [--alias smollm2] [--api-key KEY] [--ctx 2048]
        [--threads 2] [--parallel 2]
"""
import argparse
import os
import signal
import sys
import threading
import time

import xllamacpp as xlc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8089)
    ap.add_argument("--model", required=True)
    ap.add_argument("--alias", default="smollm2")
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=2)
    a = ap.parse_args()

    # Tests and examples talk to it; nothing else should.
    if not a.host.startswith("127.") and a.host not in ("localhost", "::1"):
        sys.exit("refusing to listen on a non-loopback address")

    p = xlc.CommonParams()
    p.model.path = a.model
    p.model_alias = {a.alias}
    p.hostnames = [a.host]
    p.port = a.port
    p.n_ctx = a.ctx
    p.n_parallel = a.parallel
    p.cpuparams.n_threads = a.threads
    p.cpuparams_batch.n_threads = a.threads
    p.ui = False
    p.offline = True
    if a.api_key:
        p.api_keys = [a.api_key]

    t0 = time.time()
    server = xlc.Server(p)  # loads the model and starts the HTTP thread
    print(f"READY {server.listening_address} load_s={time.time() - t0:.2f}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(1)
    # The native server thread cannot be joined from Python.
    os._exit(0)


if __name__ == "__main__":
    main()
