// node.js — hearth's long-lived nodejs launcher, driven by hearth-runtime.
//
// One process per container, started before the code is known (a stem
// cell). Protocol over pipes, one line per message:
//   stdin: "<seq>\t<json>\n"  seq 0 = init {path, dir, main, env}; else a /run body
//   fd 3:  "<seq>\t<tag>\t<json>\n"  tag r = the function's result (JSON),
//          e = a developer error (a JSON string: the message)
// stdout/stderr are the container's log: their writes are made blocking
// (below), so everything the function printed is in the pipes before its
// reply, and the runtime's end-of-activation markers follow its lines.
// Activations run concurrently when the runtime sends several (concurrency > 1).
'use strict';

const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

let mainFn = null;

// On Linux node writes to a pipe at once only while the pipe has room; the
// rest of a write is queued and the call returns, so a reply written with
// writeSync could overtake the function's own output (seen under load with
// 200 KB printed). Blocking writes keep "printed before returning" meaning
// "in the pipe before the reply".
for (const s of [process.stdout, process.stderr]) {
  if (s._handle && typeof s._handle.setBlocking === 'function') s._handle.setBlocking(true);
}

function writeAll(fd, s) {
  const b = Buffer.from(s, 'utf8');
  let off = 0;
  while (off < b.length) {
    try {
      off += fs.writeSync(fd, b, off, b.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

function reply(seq, tag, json) {
  writeAll(3, seq + '\t' + tag + '\t' + json + '\n');
}

// serialize-error's shape for rejected Errors: name, message, stack, own props.
function serializeError(e) {
  if (e === undefined || e === null) return {};
  if (e instanceof Error) {
    const o = { name: e.name, message: e.message, stack: e.stack };
    for (const k of Object.keys(e)) o[k] = e[k];
    return o;
  }
  return e;
}

function loadPackage(dir, main) {
  let entry = 'index.js';
  const pj = path.join(dir, 'package.json');
  if (fs.existsSync(pj)) {
    const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'));
    if (pkg && typeof pkg.main === 'string' && pkg.main) entry = pkg.main;
  }
  const exp = require(path.resolve(dir, entry));
  return exp ? exp[main] : undefined;
}

// A single file, as OpenWhisk's node runtime takes it: a global function
// named main, or module.exports.main / exports.main.
function loadFile(file, main) {
  const code = fs.readFileSync(file, 'utf8');
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  const req = Module.createRequire(file);
  const ident = /^[A-Za-z_$][\w$]*$/.test(main);
  const tail = ident
    ? '\n;try { return typeof ' + main + " === 'function' ? " + main + ' : undefined; } catch (e) { return undefined; }'
    : '';
  const wrapper = vm.runInThisContext(
    '(function (exports, require, module, __filename, __dirname) {' + code + tail + '\n})',
    { filename: file });
  const local = wrapper.call(m.exports, m.exports, req, m, file, path.dirname(file));
  if (typeof local === 'function') return local;
  return m.exports ? m.exports[main] : undefined;
}

function init(seq, msg) {
  try {
    const env = msg.env || {};
    for (const k of Object.keys(env)) process.env[k] = String(env[k]);
    const main = msg.main || 'main';
    const fn = msg.dir ? loadPackage(msg.path, main) : loadFile(msg.path, main);
    if (typeof fn !== 'function') throw new Error("Action entrypoint '" + main + "' is not a function.");
    mainFn = fn;
    reply(seq, 'r', '{}');
  } catch (e) {
    reply(seq, 'e', JSON.stringify('Initialization has failed due to: ' + e));
  }
}

// __OW_* of this activation. They are kept in JS, not in the C environment:
// glibc's setenv keeps every value it was ever given (never freed, about
// 200 bytes per activation, since ids and deadlines are new each time) and
// takes a lock. process.env becomes a proxy that answers these names from a
// Map and everything else from the real environment, so user code, `in`,
// Object.keys and child processes (which copy process.env) see the same
// variables as before. Native code calling getenv() does not see them.
const realEnv = process.env;
const owEnv = new Map();
const isOw = (k) => typeof k === 'string' && owEnv.has(k);
process.env = new Proxy(realEnv, {
  get: (t, k) => (isOw(k) ? owEnv.get(k) : t[k]),
  set: (t, k, v) => {
    if (isOw(k)) owEnv.set(k, String(v));
    else t[k] = v;
    return true;
  },
  has: (t, k) => isOw(k) || k in t,
  deleteProperty: (t, k) => {
    if (!owEnv.delete(k)) delete t[k];
    return true;
  },
  ownKeys: (t) => {
    const keys = Reflect.ownKeys(t);
    for (const k of owEnv.keys()) if (!(k in t)) keys.push(k);
    return keys;
  },
  getOwnPropertyDescriptor: (t, k) =>
    isOw(k)
      ? { value: owEnv.get(k), writable: true, enumerable: true, configurable: true }
      : Reflect.getOwnPropertyDescriptor(t, k),
  defineProperty: (t, k, d) => {
    if (isOw(k)) owEnv.set(k, String(d.value));
    else t[k] = d.value;
    return true;
  },
});

function setEnv(body) {
  owEnv.clear();
  for (const k of Object.keys(body)) {
    if (k === 'value') continue;
    let v = body[k];
    if (typeof v === 'number') v = String(v);
    if (typeof v !== 'string') continue;
    owEnv.set('__OW_' + k.toUpperCase(), v);
  }
}

function done(seq, r) {
  // OpenWhisk's runner.js: a main that returns nothing (or a promise of
  // nothing, "return;") succeeds with {}; null is still not a dictionary.
  if (r === undefined) r = {};
  let json;
  try {
    json = JSON.stringify(r);
  } catch (e) {
    reply(seq, 'e', JSON.stringify('The action did not produce a valid JSON response: ' + e));
    return;
  }
  reply(seq, 'r', json === undefined ? 'null' : json);
}

function run(seq, body) {
  if (!mainFn) {
    reply(seq, 'e', JSON.stringify('System not initialized.'));
    return;
  }
  const args = body.value === undefined || body.value === null ? {} : body.value;
  setEnv(body);
  let result;
  try {
    result = mainFn(args);
  } catch (e) {
    console.error(e);
    reply(seq, 'e', JSON.stringify('An error has occurred: ' + e));
    return;
  }
  if (result && typeof result.then === 'function') {
    result.then((r) => done(seq, r), (e) => done(seq, { error: serializeError(e) }));
  } else {
    done(seq, result);
  }
}

function handle(line) {
  const tab = line.indexOf('\t');
  if (tab < 0) return;
  const seq = line.slice(0, tab);
  let msg;
  try {
    msg = JSON.parse(line.slice(tab + 1));
  } catch (e) {
    reply(seq, 'e', JSON.stringify('Bad request: ' + e.message));
    return;
  }
  if (seq === '0') init(seq, msg);
  else run(seq, msg);
}

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let i;
  while ((i = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    handle(line);
  }
});
process.stdin.on('end', () => process.exit(0));
