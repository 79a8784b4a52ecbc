#!/usr/bin/env python3
"""bench/lib/startup.py — time from starting a command to its first HTTP 200.

usage: startup.py --url URL [--timeout S] [--keep] -- ARGV...

Starts ARGV (stdio to /dev/null: never read a runc child's stdout through a
pipe, see MEASURED.md), polls URL every 0.5 ms with a raw HTTP/1.0 GET until
it answers 200, prints the elapsed milliseconds on stdout, then kills the
command's process group (unless --keep: for `runc run -d`, whose container
outlives it and is deleted by the caller). Exit 1 on timeout or when the
command exits non-zero before answering. A shell loop polling with curl
would add ~5 ms per poll on this VM, hence this helper.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit


def answered(host, port, path):
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            s.settimeout(2)
            head = s.recv(64)
            return head.startswith(b"HTTP/1.") and head[9:12] == b"200"
    except OSError:
        return False


def main():
    args = sys.argv[1:]
    url, timeout, keep = None, 10.0, False
    while args and args[0] != "--":
        a = args.pop(0)
        if a == "--url":
            url = args.pop(0)
        elif a == "--timeout":
            timeout = float(args.pop(0))
        elif a == "--keep":
            keep = True
        else:
            print(__doc__, file=sys.stderr)
            return 2
    if not url or not args or args[0] != "--" or len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    argv = args[1:]
    u = urlsplit(url)
    host, port, path = u.hostname, u.port or 80, u.path or "/"
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    ok = False
    try:
        while time.monotonic() - t0 < timeout:
            if answered(host, port, path):
                ok = True
                break
            rc = p.poll()
            if rc is not None and rc != 0:
                break
            time.sleep(0.0005)
        elapsed = (time.monotonic() - t0) * 1000
    finally:
        if not keep and p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    if not ok:
        print("startup.py: no answer from %s (exit %s)" % (url, p.poll()), file=sys.stderr)
        return 1
    print("%.2f" % elapsed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
