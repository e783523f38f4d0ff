// Benchmark driver for jsonata-js (reference implementation), run by
// benchcmp: stdin is {"input": any, "cases": [{"name", "expr"}], "seconds": n};
// stdout is [{"name", "ns_per_op", "iterations"}].
'use strict';
const path = require('path');
const jsonata = require(path.join(process.argv[2], 'jsonata'));

async function main() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const spec = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const out = [];
  for (const c of spec.cases) {
    const e = jsonata(c.expr);
    // warm up
    for (let i = 0; i < 50; i++) await e.evaluate(spec.input, {});
    let n = 0;
    const budget = spec.seconds * 1e9;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < budget) {
      for (let i = 0; i < 20; i++) await e.evaluate(spec.input, {});
      n += 20;
      elapsed = Number(process.hrtime.bigint() - start);
    }
    out.push({ name: c.name, ns_per_op: elapsed / n, iterations: n });
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { console.error(err); process.exit(1); });
