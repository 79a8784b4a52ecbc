// The openwhisk npm client, used exactly as its README shows, against hearth.
const openwhisk = require('openwhisk');
const ow = openwhisk({ apihost: process.env.__OW_API_HOST, api_key: process.env.__OW_API_KEY });

function check(cond, what) {
	if (!cond) throw new Error('check failed: ' + what);
	console.log('ok: ' + what);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
	const name = 'npm-hello';
	const code = 'function main(p) { console.log("npm log"); return {payload: "hello " + p.who}; }';
	const created = await ow.actions.create({ name, action: code });
	check(created.name === name && created.version === '0.0.1', 'actions.create');

	const res = await ow.actions.invoke({ name, blocking: true, result: true, params: { who: 'npm' } });
	check(res.payload === 'hello npm', 'actions.invoke blocking result');

	const rec = await ow.actions.invoke({ name, blocking: true });
	check(rec.response && rec.response.success === true && /^[0-9a-f]{32}$/.test(rec.activationId),
	      'actions.invoke blocking record');

	const nb = await ow.actions.invoke({ name });
	check(/^[0-9a-f]{32}$/.test(nb.activationId), 'actions.invoke non-blocking');

	const list = await ow.actions.list();
	check(Array.isArray(list) && list.some((a) => a.name === name), 'actions.list');

	const got = await ow.actions.get({ name });
	check(got.exec && got.exec.code === code, 'actions.get');

	let act;
	for (let i = 0; i < 100; i++) {
		try { act = await ow.activations.get({ name: nb.activationId }); if (act.response) break; } catch (e) { /* not yet */ }
		await sleep(100);
	}
	check(act && act.response && act.response.result.payload === 'hello undefined', 'activations.get');

	const acts = await ow.activations.list({ limit: 10 });
	check(Array.isArray(acts) && acts.some((a) => a.activationId === rec.activationId), 'activations.list');

	let logs;
	for (let i = 0; i < 100; i++) {
		logs = await ow.activations.logs({ name: rec.activationId });
		if (logs.logs && logs.logs.some((l) => l.includes('npm log'))) break;
		await sleep(100);
	}
	check(logs.logs.some((l) => l.includes('npm log')), 'activations.logs');

	const result = await ow.activations.result({ name: rec.activationId });
	check(result.result && result.result.payload === 'hello undefined', 'activations.result');

	await ow.actions.delete({ name });
	let gone = false;
	try { await ow.actions.get({ name }); } catch (e) { gone = e.statusCode === 404; }
	check(gone, 'actions.delete');
})().catch((e) => { console.error('FAIL:', e.message || e); process.exit(1); });
