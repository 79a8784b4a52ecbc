// owshape.js — the shape of OpenWhisk's own nodejs runtime (express +
// body-parser with a 48mb limit, /init and /run, the action called
// in-process, sentinels on stdout and stderr after each run), for the
// runtime benchmark's comparison.   node owshape.js PORT   (needs express)
'use strict';
const express = require('express');
const app = express();
app.use(express.json({ limit: '48mb' }));
let main = null;
app.post('/init', (req, res) => {
  const v = (req.body && req.body.value) || {};
  // eslint-disable-next-line no-eval
  main = eval('(function(){' + v.code + '\n;return ' + (v.main || 'main') + '})()');
  res.status(200).json({ OK: true });
});
app.post('/run', (req, res) => {
  const b = req.body || {};
  for (const k of Object.keys(b)) if (k !== 'value' && typeof b[k] === 'string') process.env['__OW_' + k.toUpperCase()] = b[k];
  Promise.resolve(main(b.value || {})).then((r) => {
    process.stdout.write('XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n');
    process.stderr.write('XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n');
    res.status(200).json(r);
  });
});
app.listen(Number(process.argv[2]), '127.0.0.1');
