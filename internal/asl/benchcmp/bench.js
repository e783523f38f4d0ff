// Benchmark driver for aws-local-stepfunctions, run by benchcmp: stdin is
// {"machines": [{"name", "definition", "input"}], "seconds": n}; stdout is
// [{"name", "ns_per_run", "runs", "output"}].
'use strict';
const path = require('path');
const { StateMachine } = require(path.join(process.argv[2], 'aws-local-stepfunctions'));

async function main() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const spec = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const out = [];
  for (const m of spec.machines) {
    const sm = new StateMachine(m.definition, { validationOptions: { checkPaths: false, checkArn: false } });
    let output;
    // warm up (the JIT) for a quarter of the measuring time, at least 3 runs
    const warm = process.hrtime.bigint() + BigInt(Math.round(spec.seconds * 0.25e9));
    for (let i = 0; i < 3 || process.hrtime.bigint() < warm; i++) output = await sm.run(m.input).result;
    let n = 0;
    const budget = spec.seconds * 1e9;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < budget) {
      await sm.run(m.input).result;
      n++;
      elapsed = Number(process.hrtime.bigint() - start);
    }
    out.push({ name: m.name, ns_per_run: elapsed / n, runs: n, output });
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { console.error(err); process.exit(1); });
