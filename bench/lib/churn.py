#!/usr/bin/env python3
"""bench/lib/churn.py — container churn through one agent's HTTP API.

usage: churn.py AGENT_URL TOKEN KIND MEMORY_MB INFLIGHT SECONDS

INFLIGHT workers each loop: POST /containers {kind, memory} (201), wait
until the container's runtime answers GET /healthz, DELETE /containers/{id}
(204; 404 counts too: the scheduler may have reclaimed an unowned one).
Prints one line of key=value: cycles, per_s, errors, ready_p50_ms,
ready_p95_ms, delete_p50_ms. Every container it creates is deleted before
it exits (also the ones left when the time is up).
"""
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit


def main():
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    url, token, kind, mem, inflight, secs = sys.argv[1:]
    u = urlsplit(url)
    hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    body = json.dumps({"kind": kind, "memory": int(mem)})
    end = time.monotonic() + float(secs)
    lock = threading.Lock()
    st = {"cycles": 0, "errors": 0, "ready": [], "delete": [], "msg": ""}

    def call(conn, method, path, data=None):
        conn.request(method, path, body=data, headers=hdr)
        r = conn.getresponse()
        return r.status, r.read()

    def healthy(host, port):
        try:
            c = http.client.HTTPConnection(host, port, timeout=1)
            c.request("GET", "/healthz")
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except OSError:
            return False

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        while time.monotonic() < end:
            t0 = time.monotonic()
            cid = None
            try:
                s, b = call(conn, "POST", "/containers", body)
                if s != 201:
                    raise RuntimeError("create: %d %s" % (s, b[:200]))
                d = json.loads(b)
                cid = d["id"]
                while not healthy(d["host"], d["port"]):
                    if time.monotonic() - t0 > 20:
                        raise RuntimeError("container %s never answered /healthz" % cid)
                    time.sleep(0.002)
                t1 = time.monotonic()
                s, b = call(conn, "DELETE", "/containers/" + cid)
                cid = None
                if s not in (204, 404):
                    raise RuntimeError("delete: %d %s" % (s, b[:200]))
                t2 = time.monotonic()
                with lock:
                    st["cycles"] += 1
                    st["ready"].append((t1 - t0) * 1000)
                    st["delete"].append((t2 - t1) * 1000)
            except Exception as e:  # count it, say it once, carry on
                with lock:
                    st["errors"] += 1
                    st["msg"] = st["msg"] or str(e)
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
                if cid:
                    try:
                        call(conn, "DELETE", "/containers/" + cid)
                    except Exception:
                        pass
                time.sleep(0.05)
        conn.close()

    t = time.monotonic()
    ws = [threading.Thread(target=worker) for _ in range(int(inflight))]
    for w in ws:
        w.start()
    for w in ws:
        w.join()
    el = time.monotonic() - t

    def pct(v, p):
        if not v:
            return 0
        v = sorted(v)
        return v[min(len(v) - 1, max(0, int(p / 100 * len(v) + 0.999999) - 1))]

    if st["msg"]:
        print("churn.py: first error: " + st["msg"], file=sys.stderr)
    print("cycles=%d per_s=%.1f errors=%d ready_p50_ms=%.1f ready_p95_ms=%.1f delete_p50_ms=%.1f"
          % (st["cycles"], st["cycles"] / el, st["errors"], pct(st["ready"], 50),
             pct(st["ready"], 95), pct(st["delete"], 50)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
