// bare.js — the baseline: a minimal node http server answering {} to any
// POST, reading and parsing the body as a runtime would.   node bare.js PORT
'use strict';
const http = require('http');
http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    JSON.parse(body || '{}');
    const out = '{}';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': out.length });
    res.end(out);
  });
}).listen(Number(process.argv[2]), '127.0.0.1');
