// A transparent HTTP proxy between the clients under test and the hearth
// node: it forwards every request unchanged and appends one JSON line per
// exchange to a log (method, path, query, the shape of the request body,
// status, the start of the reply), so that a failed step can show which REST
// calls the client made and what hearth answered.
//   node trace_proxy.js UPSTREAM_URL LOG_FILE PORT_FILE
// It listens on a free loopback port, writes that port to PORT_FILE and runs
// until it gets SIGTERM.
'use strict';
const http = require('http');
const fs = require('fs');

const [upstreamUrl, logFile, portFile] = process.argv.slice(2);
const upstream = new URL(upstreamUrl);

// The shape of a JSON value: strings longer than 60 characters (code, keys)
// become "<string N chars>", long arrays keep their first 3 items.
function shape(v, depth = 0) {
	if (typeof v === 'string') return v.length > 60 ? `<string ${v.length} chars>` : v;
	if (Array.isArray(v)) {
		const head = v.slice(0, 3).map((x) => shape(x, depth + 1));
		if (v.length > 3) head.push(`<${v.length - 3} more>`);
		return head;
	}
	if (v && typeof v === 'object') {
		if (depth > 6) return '<object>';
		const o = {};
		for (const k of Object.keys(v)) o[k] = shape(v[k], depth + 1);
		return o;
	}
	return v;
}

function bodyShape(buf, type) {
	if (!buf.length) return undefined;
	const s = buf.toString('utf8');
	if (/json/.test(type || '') || /^\s*[[{]/.test(s)) {
		try { return shape(JSON.parse(s)); } catch (e) { /* not JSON */ }
	}
	return s.length > 200 ? `<${buf.length} bytes> ${s.slice(0, 200)}` : s;
}

const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const reqBody = Buffer.concat(chunks);
		const headers = { ...req.headers, host: upstream.host };
		const up = http.request({
			host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers,
		}, (ur) => {
			const rchunks = [];
			ur.on('data', (c) => rchunks.push(c));
			ur.on('end', () => {
				const resBody = Buffer.concat(rchunks);
				const u = new URL(req.url, 'http://x');
				const q = {};
				for (const [k, v] of u.searchParams) q[k] = v;
				const line = {
					t: new Date().toISOString(), method: req.method, path: decodeURIComponent(u.pathname),
					query: Object.keys(q).length ? q : undefined,
					body: bodyShape(reqBody, req.headers['content-type']),
					status: ur.statusCode, reply: bodyShape(resBody, ur.headers['content-type']),
				};
				fs.appendFileSync(logFile, JSON.stringify(line) + '\n');
				res.writeHead(ur.statusCode, ur.headers);
				res.end(resBody);
			});
		});
		up.on('error', (e) => {
			fs.appendFileSync(logFile, JSON.stringify({ method: req.method, path: req.url, error: e.message }) + '\n');
			res.writeHead(502, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ error: 'trace proxy: ' + e.message }));
		});
		up.end(reqBody);
	});
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
	fs.writeFileSync(portFile, String(server.address().port));
});
process.on('SIGTERM', () => { server.close(); process.exit(0); });
