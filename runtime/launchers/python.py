# python.py — hearth's long-lived python launcher, driven by hearth-runtime.
#
# One process per container, started before the code is known (a stem
# cell). Protocol over pipes, one line per message:
#   stdin: "<seq>\t<json>\n"  seq 0 = init {path, dir, main, env}; else a /run body
#   fd 3:  "<seq>\t<tag>\t<json>\n"  tag r = the function's result (JSON),
#          e = a developer error (a JSON string: the message)
# stdout and stderr are flushed before every reply, so the runtime's
# end-of-activation markers always follow the function's log lines.
# Activations run one at a time.
import glob
import json
import os
import sys
import traceback

main_fn = None
last_env = {}


def reply(seq, tag, payload):
    sys.stdout.flush()
    sys.stderr.flush()
    data = (seq + "\t" + tag + "\t" + payload + "\n").encode("utf-8")
    while data:
        n = os.write(3, data)
        data = data[n:]


def error(seq, msg):
    reply(seq, "e", json.dumps(msg))


def init(seq, msg):
    global main_fn
    try:
        for k, v in (msg.get("env") or {}).items():
            os.environ[str(k)] = str(v)
        main = msg.get("main") or "main"
        path = msg["path"]
        if msg.get("dir"):
            sys.path.insert(0, path)
            # a virtualenv packed beside __main__.py, as OpenWhisk supports
            for sp in glob.glob(os.path.join(path, "virtualenv", "lib", "python3*", "site-packages")):
                sys.path.insert(1, sp)
            fname = os.path.join(path, "__main__.py")
        else:
            sys.path.insert(0, os.path.dirname(path))
            fname = path
        with open(fname, "r", encoding="utf-8") as f:
            src = f.read()
        # as OpenWhisk's launcher imports the code as module "main__"
        g = {"__name__": "main__", "__file__": fname, "__builtins__": __builtins__}
        exec(compile(src, fname, "exec"), g)
        fn = g.get(main)
        if not callable(fn):
            raise Exception("Action entrypoint '%s' is not a function." % main)
        main_fn = fn
        reply(seq, "r", "{}")
    except Exception as ex:
        traceback.print_exc()
        error(seq, "Initialization has failed due to: %s: %s" % (type(ex).__name__, ex))


# __OW_* of this activation. os.environ[name] = v calls setenv(), and glibc
# keeps every value setenv was ever given (never freed): ids and deadlines
# are new on every activation, about 200 bytes each time. Once ctypes is
# loaded (after the 16th reply: importing it takes milliseconds, which a cold
# start and its first runs should not pay), each name gets its own buffer,
# handed to putenv() once and rewritten in place afterwards; os.environ's
# mapping is updated directly.
PUTENV_AFTER_RUNS = 16
putenv_c = None
env_bufs = {}  # name -> its ctypes buffer
env_live = set()  # names whose buffer environ points to now
env_old = []  # outgrown buffers: getenv() pointers may still refer to them


def load_putenv():
    global putenv_c
    try:
        import ctypes

        putenv_c = (ctypes.CDLL(None).putenv, ctypes.create_string_buffer)
    except Exception:
        putenv_c = False


def env_set(name, v):
    if not putenv_c:
        os.environ[name] = v
        return
    data = (name + "=" + v).encode("utf-8", "surrogateescape")
    buf = env_bufs.get(name)
    if buf is None or len(data) >= len(buf):
        if buf is not None:
            env_old.append(buf)
            env_live.discard(name)
        buf = putenv_c[1](max(len(data) + 1, 2 * len(buf) if buf else 96))
        env_bufs[name] = buf
    buf.value = data
    if name not in env_live:
        putenv_c[0](buf)
        env_live.add(name)
    os.environ._data[os.environ.encodekey(name)] = os.environ.encodevalue(v)


def env_unset(name):
    os.unsetenv(name)  # drops environ's pointer; the buffer is kept for next time
    os.environ._data.pop(os.environ.encodekey(name), None)
    env_live.discard(name)


def set_env(body):
    # unchanged values are not rewritten, stale ones are removed
    global last_env
    nxt = {}
    for k, v in body.items():
        if k == "value":
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str):
            continue
        name = "__OW_" + k.upper()
        nxt[name] = v
        if last_env.get(name) != v:
            env_set(name, v)
    for name in last_env:
        if name not in nxt:
            env_unset(name)
    last_env = nxt


def run(seq, body):
    if main_fn is None:
        error(seq, "System not initialized.")
        return
    args = body.get("value")
    if args is None:
        args = {}
    set_env(body)
    try:
        res = main_fn(args)
    except Exception as ex:
        traceback.print_exc()
        error(seq, str(ex))
        return
    try:
        out = json.dumps(res, allow_nan=False, separators=(",", ":"))
    except Exception as ex:
        error(seq, "The action did not produce a valid JSON response: %s" % ex)
        return
    reply(seq, "r", out)


def main():
    stdin = sys.stdin.buffer
    runs = 0
    while True:
        line = stdin.readline()
        if not line:
            return
        seq, sep, payload = line.decode("utf-8", "replace").partition("\t")
        if not sep:
            continue
        try:
            msg = json.loads(payload)
        except Exception as ex:
            error(seq, "Bad request: %s" % ex)
            continue
        if seq == "0":
            init(seq, msg)
        else:
            run(seq, msg)
            runs += 1
            if putenv_c is None and runs >= PUTENV_AFTER_RUNS:
                load_putenv()


main()
