// The openwhisk npm client 3.21.9, used as its README shows, against hearth:
// the entity APIs tests/e2e/npm_client.js does not cover yet (packages and
// bindings, triggers, rules, feeds, routes, namespaces.get, zip Buffers).
// Each step is checked through the client and, where the client's answer
// does not prove the effect, through the REST API (plain fetch with the key).
//   __OW_API_HOST (what the client talks to), __OW_API_KEY, HEARTH_API (the
//   node itself, for checks), HEARTH_NS, TRACE (the tracing proxy's log),
//   ZIP_NODE, ZIP_PYTHON (zip files), RESULT (where to write the counts),
//   OPENWHISK_MODULE (the client's directory)
'use strict';
const fs = require('fs');
// the pinned client of tests/e2e/clients, not whatever a parent node_modules holds
const openwhisk = require(process.env.OPENWHISK_MODULE || 'openwhisk');

const ow = openwhisk({ apihost: process.env.__OW_API_HOST, api_key: process.env.__OW_API_KEY });
const NS = process.env.HEARTH_NS;
const API = process.env.HEARTH_API;
const AUTH = 'Basic ' + Buffer.from(process.env.__OW_API_KEY).toString('base64');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function check(cond, what, detail) {
	if (!cond) throw new Error('check failed: ' + what + (detail === undefined ? '' : ': ' + JSON.stringify(detail).slice(0, 800)));
	console.log('    ok: ' + what);
}

// REST: the node itself, not through the client
async function rest(method, path, body) {
	const r = await fetch(API + path, {
		method, headers: { Authorization: AUTH, 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await r.text();
	let json;
	try { json = JSON.parse(text); } catch (e) { json = text; }
	return { status: r.status, body: json };
}
async function gone(path) {
	const r = await rest('GET', path);
	check(r.status === 404, `${path} is gone (404)`, r);
}
async function rejects(p, status, what) {
	let err;
	try { await p; } catch (e) { err = e; }
	check(err && err.statusCode === status, what, err ? { statusCode: err.statusCode, error: err.error } : 'it succeeded');
	return err;
}
// an activation of action NAME after SINCE whose record satisfies PRED
async function activationOf(name, since, pred, ms = 20000) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		const list = await rest('GET', `/api/v1/namespaces/_/activations?name=${name}&since=${since}&limit=10`);
		if (list.status === 200 && Array.isArray(list.body)) {
			for (const a of list.body) {
				const rec = await rest('GET', `/api/v1/namespaces/_/activations/${a.activationId}`);
				if (rec.status === 200 && pred(rec.body)) return rec.body;
			}
		}
		await sleep(300);
	}
	throw new Error(`no activation of ${name} since ${since} that matches`);
}

// the tracing proxy's lines since MARK, for a failed step
function traceLines() {
	try { return fs.readFileSync(process.env.TRACE, 'utf8').split('\n').filter(Boolean); } catch (e) { return []; }
}
function showCalls(mark) {
	const lines = traceLines().slice(mark);
	if (!lines.length) return;
	console.log('    REST calls of this step:');
	for (const l of lines) {
		const c = JSON.parse(l);
		const q = c.query ? '?' + Object.entries(c.query).map(([k, v]) => `${k}=${v}`).join('&') : '';
		const b = c.body !== undefined ? ' body=' + JSON.stringify(c.body).slice(0, 300) : '';
		const r = c.reply !== undefined ? ' ' + JSON.stringify(c.reply).slice(0, 300) : '';
		console.log(`    ${c.method} ${c.path}${q}${b} -> ${c.status || 'no answer: ' + c.error}${r}`);
	}
}

let passed = 0, failed = 0;
const failedNames = [];
async function step(name, fn) {
	const mark = traceLines().length;
	const t0 = Date.now();
	try {
		await fn();
		passed++;
		console.log(`PASS  ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
		if (process.env.E2E_VERBOSE === '1') showCalls(mark);
	} catch (e) {
		failed++;
		failedNames.push(name);
		console.log(`FAIL  ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
		await sleep(300); // calls still in flight (a Promise.all that failed early) belong to this step
		console.log('    | ' + String(e.message || e).split('\n').join('\n    | '));
		if (e.error) console.log('    | error body: ' + JSON.stringify(e.error).slice(0, 500));
		showCalls(mark);
	}
}

const HELLO = 'function main(p) { console.log("npm hello log"); return {greeting: p.greeting + " " + (p.name || "world"), source: p.source || null}; }';

(async () => {
	await step('namespaces.list', async () => {
		const l = await ow.namespaces.list();
		check(Array.isArray(l) && l.includes(NS), `lists ${NS}`, l);
	});

	await step('namespaces.get', async () => {
		const n = await ow.namespaces.get();
		for (const k of ['actions', 'packages', 'triggers', 'rules']) check(Array.isArray(n[k]), `${k} is a list`, n);
	});

	// ---- packages -------------------------------------------------------
	await step('packages.create', async () => {
		const p = await ow.packages.create({ name: 'npmpkg', package: { parameters: [{ key: 'greeting', value: 'hi' }] } });
		check(p.name === 'npmpkg' && p.namespace === NS && p.version === '0.0.1', 'the answer is the package', p);
		await rejects(ow.packages.create({ name: 'npmpkg' }), 409, 'a second create is 409');
	});

	await step('packages.get', async () => {
		const p = await ow.packages.get({ name: 'npmpkg' });
		check(p.parameters.some((x) => x.key === 'greeting' && x.value === 'hi'), 'its parameters', p);
		check(Array.isArray(p.actions) && Array.isArray(p.feeds), 'actions and feeds lists', p);
	});

	await step('packages.list', async () => {
		const l = await ow.packages.list();
		check(l.some((p) => p.name === 'npmpkg'), 'lists npmpkg', l);
	});

	await step('actions.create in a package, invoke with the package parameter', async () => {
		const a = await ow.actions.create({ name: 'npmpkg/hello', action: HELLO, kind: 'nodejs:20' });
		check(a.namespace === `${NS}/npmpkg` && a.name === 'hello', 'the action is in the package', a);
		const r = await ow.actions.invoke({ name: 'npmpkg/hello', blocking: true, result: true, params: { name: 'npm' } });
		check(r.greeting === 'hi npm', 'package parameter merged', r);
		const p = await ow.packages.get({ name: 'npmpkg' });
		check(p.actions.some((x) => x.name === 'hello'), 'packages.get lists the action', p);
	});

	await step('packages.create binding, packages.update binding', async () => {
		const b = await ow.packages.create({ name: 'npmbind', package: { binding: { namespace: NS, name: 'npmpkg' }, parameters: [{ key: 'greeting', value: 'bound' }] } });
		check(b.binding && b.binding.name === 'npmpkg' && b.binding.namespace === NS, 'a binding', b);
		let r = await ow.actions.invoke({ name: 'npmbind/hello', blocking: true, result: true, params: { name: 'x' } });
		check(r.greeting === 'bound x', "the binding's parameter overrides the package's", r);
		const u = await ow.packages.update({ name: 'npmbind', package: { binding: { namespace: NS, name: 'npmpkg' }, parameters: [{ key: 'greeting', value: 'rebound' }] } });
		check(u.version === '0.0.2', 'update bumps the version', u);
		r = await ow.actions.invoke({ name: 'npmbind/hello', blocking: true, result: true, params: { name: 'y' } });
		check(r.greeting === 'rebound y', 'the updated binding runs', r);
		r = await ow.actions.invoke({ name: 'npmbind/hello', blocking: true, result: true, params: { name: 'z', greeting: 'invoke' } });
		check(r.greeting === 'invoke z', 'an invoke parameter overrides them all', r);
	});

	await step('packages.delete (a non-empty package is refused)', async () => {
		const e = await rejects(ow.packages.delete({ name: 'npmpkg' }), 409, 'a package with an action is 409');
		check(/Package not empty/.test(e.error && e.error.error), "OpenWhisk's message", e.error);
		await ow.packages.delete({ name: 'npmbind' });
		await gone('/api/v1/namespaces/_/packages/npmbind');
		await ow.actions.delete({ name: 'npmpkg/hello' });
		await ow.packages.delete({ name: 'npmpkg' });
		await gone('/api/v1/namespaces/_/packages/npmpkg');
	});

	// ---- triggers and rules ---------------------------------------------
	await step('triggers.create, triggers.get', async () => {
		await ow.actions.create({ name: 'npmhello', action: HELLO, kind: 'nodejs:20', params: { greeting: 'hey' } });
		const t = await ow.triggers.create({ name: 'npmtrig', trigger: { parameters: [{ key: 'source', value: 'npm' }] } });
		check(t.name === 'npmtrig' && t.namespace === NS, 'the answer is the trigger', t);
		const g = await ow.triggers.get({ name: 'npmtrig' });
		check(g.parameters.some((x) => x.key === 'source' && x.value === 'npm'), 'its parameters', g);
		const l = await ow.triggers.list();
		check(l.some((x) => x.name === 'npmtrig'), 'triggers.list has it', l);
	});

	await step('rules.create, rules.get', async () => {
		const r = await ow.rules.create({ name: 'npmrule', action: 'npmhello', trigger: 'npmtrig' });
		check(r.name === 'npmrule', 'the answer is the rule', r);
		const g = await ow.rules.get({ name: 'npmrule' });
		check(g.status === 'active', 'a new rule is active', g);
		check(g.trigger.name === 'npmtrig' && g.trigger.path === NS && g.action.name === 'npmhello' && g.action.path === NS, 'trigger and action', g);
		const l = await ow.rules.list();
		check(l.some((x) => x.name === 'npmrule'), 'rules.list has it', l);
		await rejects(ow.rules.create({ name: 'npmbadrule', action: 'nosuchaction', trigger: 'npmtrig' }), 400, 'a rule to a missing action is refused');
		await gone('/api/v1/namespaces/_/rules/npmbadrule');
	});

	await step("triggers.invoke (fire) runs the rule's action", async () => {
		const since = Date.now() - 1000;
		const f = await ow.triggers.invoke({ name: 'npmtrig', params: { name: 'fire' } });
		check(/^[0-9a-f]{32}$/.test(f.activationId), "fire answers the trigger's activation id", f);
		await activationOf('npmhello', since, (a) => a.response && a.response.result.greeting === 'hey fire' && a.response.result.source === 'npm');
		console.log('    ok: npmhello ran with the trigger parameter and the payload');
	});

	await step('rules.disable, rules.enable', async () => {
		await ow.rules.disable({ name: 'npmrule' });
		let g = await ow.rules.get({ name: 'npmrule' });
		check(g.status === 'inactive', 'inactive', g);
		const r = await rest('POST', '/api/v1/namespaces/_/triggers/npmtrig', {});
		check(r.status === 204, 'a fire with no active rule is 204', r);
		await ow.rules.enable({ name: 'npmrule' });
		g = await ow.rules.get({ name: 'npmrule' });
		check(g.status === 'active', 'active again', g);
	});

	await step('rules.delete, triggers.delete', async () => {
		await ow.rules.delete({ name: 'npmrule' });
		await gone('/api/v1/namespaces/_/rules/npmrule');
		await ow.triggers.delete({ name: 'npmtrig' });
		await gone('/api/v1/namespaces/_/triggers/npmtrig');
	});

	// ---- feeds: the alarms package --------------------------------------
	await step('feeds.create /whisk.system/alarms/alarm fires the trigger', async () => {
		await ow.triggers.create({ name: 'npmalarm' });
		await ow.rules.create({ name: 'npmalarmrule', action: 'npmhello', trigger: 'npmalarm' });
		const since = Date.now() - 1000;
		const c = await ow.feeds.create({ name: '/whisk.system/alarms/alarm', trigger: 'npmalarm', params: { cron: '* * * * *', trigger_payload: { source: 'alarm' } } });
		check(c.response && c.response.success === true, 'the feed action succeeded (CREATE)', c);
		const g = await ow.feeds.get({ name: '/whisk.system/alarms/alarm', trigger: 'npmalarm' });
		check(g.response && g.response.success === true, 'READ answers the feed', g);
		// a cron of every minute: the first fire within 65 s
		await activationOf('npmhello', since, (a) => a.response && a.response.result.source === 'alarm', 65000);
		console.log('    ok: the alarm fired the trigger, the rule ran npmhello with trigger_payload');
	});

	await step('feeds.delete', async () => {
		const d = await ow.feeds.delete({ name: '/whisk.system/alarms/alarm', trigger: 'npmalarm' });
		check(d.response && d.response.success === true, 'the feed action succeeded (DELETE)', d);
		await ow.rules.delete({ name: 'npmalarmrule' });
		await ow.triggers.delete({ name: 'npmalarm' });
		await gone('/api/v1/namespaces/_/triggers/npmalarm');
	});

	// ---- routes (issue 25) ----------------------------------------------
	await step('routes.create, routes.list, call the route, routes.delete', async () => {
		await ow.actions.create({ name: 'npmweb', action: 'function main(p) { return {payload: "web " + (p.name || "?")}; }', kind: 'nodejs:20', annotations: { 'web-export': true } });
		const c = await ow.routes.create({ relpath: '/hello', operation: 'GET', action: 'npmweb', basepath: '/npmapi', responsetype: 'json' });
		check(typeof c.gwApiUrl === 'string' && c.apidoc, 'createApi answers the API with its URL', c);
		const l = await ow.routes.list({ basepath: '/npmapi' });
		check(l.apis && l.apis.length === 1 && l.apis[0].value.apidoc.paths['/hello'].get, 'getApi lists GET /hello', l);
		const url = l.apis[0].value.gwApiUrl.replace(/\/$/, '') + '/hello?name=route';
		let r = await fetch(url);
		const body = await r.text();
		check(r.status === 200 && JSON.parse(body).payload === 'web route', `GET ${url} runs the action`, { status: r.status, body });
		await ow.routes.delete({ basepath: '/npmapi' });
		const l2 = await ow.routes.list({ basepath: '/npmapi' });
		check(l2.apis && l2.apis.length === 0, 'no API after deleteApi', l2);
		r = await fetch(url);
		check(r.status === 404, 'the route is gone', r.status);
		await ow.actions.delete({ name: 'npmweb' });
	});

	// ---- zip uploaded as a Buffer ---------------------------------------
	await step("actions.create with a zip Buffer (nodejs:20), invoke", async () => {
		const zip = fs.readFileSync(process.env.ZIP_NODE);
		await ow.actions.create({ name: 'npmzip', action: zip, kind: 'nodejs:20' });
		const r = await ow.actions.invoke({ name: 'npmzip', blocking: true, result: true, params: { name: 'zip' } });
		check(r.zipped === 'hello zip', 'the zipped module runs', r);
		const a = await ow.actions.get({ name: 'npmzip' });
		check(a.exec.binary === true, 'exec.binary is true (inferred from the base64 code)', a.exec);
		check(a.exec.code === zip.toString('base64'), 'the code is the zip, base64', a.exec.code && a.exec.code.slice(0, 40));
		await ow.actions.delete({ name: 'npmzip' });
	});

	await step("actions.create with a zip Buffer (python:3), invoke", async () => {
		const zip = fs.readFileSync(process.env.ZIP_PYTHON);
		await ow.actions.create({ name: 'npmpyzip', action: zip, kind: 'python:3' });
		const r = await ow.actions.invoke({ name: 'npmpyzip', blocking: true, result: true, params: { name: 'py' } });
		check(r.zipped === 'hello py', 'the zipped __main__.py runs', r);
		const a = await ow.actions.get({ name: 'npmpyzip' });
		check(a.exec.binary === true, 'exec.binary is true', a.exec);
		await ow.actions.delete({ name: 'npmpyzip' });
	});

	try { await ow.actions.delete({ name: 'npmhello' }); } catch (e) { /* a failed step left it, or not */ }
	fs.writeFileSync(process.env.RESULT, `${passed} ${failed}\n${failedNames.join('\n')}\n`);
})().catch((e) => { console.error('FAIL (outside any step):', e.stack || e); process.exit(2); });
