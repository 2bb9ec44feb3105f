#!/usr/bin/env python3
"""Bounded load for scripts/scale-check.sh: N threads, each sending at most M chat
requests (half streamed) through the proxy until a deadline. Prints one JSON summary:
per outcome counts, the request ids answered completely, and failures described.
Standard library only; every request goes to 127.0.0.1."""
import http.client
import json
import sys
import threading
import time

base_port = int(sys.argv[1])
keys = sys.argv[2].split(",")
threads = int(sys.argv[3])
per_thread = int(sys.argv[4])
seconds = float(sys.argv[5])
deadline = time.time() + seconds
lock = threading.Lock()
summary = {"sent": 0, "status": {}, "complete": [], "streams_done": 0,
           "streams_broken": 0, "transport_errors": 0, "examples": []}


def note(kind, detail=None):
    with lock:
        summary["status"][kind] = summary["status"].get(kind, 0) + 1
        if detail and len(summary["examples"]) < 10:
            summary["examples"].append(detail)


def one(key, stream):
    body = json.dumps({"model": "llama3.2:3b", "max_tokens": 8, "stream": stream,
                       "messages": [{"role": "user", "content": "hi"}]})
    conn = http.client.HTTPConnection("127.0.0.1", base_port, timeout=30)
    try:
        conn.request("POST", "/v1/chat/completions", body,
                     {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
        res = conn.getresponse()
        data = res.read()
        rid = res.getheader("x-request-id")
        note(str(res.status))
        if res.status == 200:
            text = data.decode("utf-8", "replace")
            if stream:
                if text.rstrip().endswith("data: [DONE]"):
                    with lock:
                        summary["streams_done"] += 1
                        summary["complete"].append(rid)
                else:
                    with lock:
                        summary["streams_broken"] += 1
                    note("stream_without_done", text[-200:])
            else:
                json.loads(text)
                with lock:
                    summary["complete"].append(rid)
        elif res.status >= 500:
            note("5xx_body", data[:200].decode("utf-8", "replace"))
    except Exception as e:  # a connection cut by the kill
        with lock:
            summary["transport_errors"] += 1
        note("transport_error", repr(e)[:200])
    finally:
        conn.close()


def worker(i):
    key = keys[i % len(keys)]
    for n in range(per_thread):
        if time.time() > deadline:
            return
        with lock:
            summary["sent"] += 1
        one(key, stream=(n % 2 == 0))


ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(json.dumps(summary))
