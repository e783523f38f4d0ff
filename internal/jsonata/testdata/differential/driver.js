// Differential-test driver: evaluates a batch of JSONata expressions with the
// reference implementation (npm jsonata, pinned by the repository's
// tools/package.json) and prints the outcomes as JSON.
//
// usage: node driver.js <node_modules dir>   (stdin: JSON array of cases)
// case:    {"expr": string, "input": any (absent = no input), "bindings": object,
//           "now": number (optional: the clock $now/$millis read, in epoch millis)}
// outcome: {"value": any} | {"undefined": true} | {"error": {"code": string, "position": number, "message": string}}
'use strict';
const path = require('path');
const jsonata = require(path.join(process.argv[2], 'jsonata'));

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function plain(v) {
  // JSON form of a result, as JSON.stringify renders it (functions as "").
  return JSON.parse(JSON.stringify(v, (k, x) => (typeof x === 'function' || (x && x._jsonata_lambda) || (x && x._jsonata_function)) ? '' : x));
}

const RealDate = Date;

// fixClock makes `new Date()` (which jsonata-js reads once per evaluation
// for $now and $millis) return the instant ms; undefined restores the clock.
function fixClock(ms) {
  if (ms === undefined) {
    global.Date = RealDate;
    return;
  }
  global.Date = class extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(ms); else super(...args);
    }
    static now() { return ms; }
  };
}

async function main() {
  const cases = JSON.parse(await readStdin());
  const out = [];
  for (const c of cases) {
    try {
      const e = jsonata(c.expr);
      const input = Object.prototype.hasOwnProperty.call(c, 'input') ? c.input : undefined;
      fixClock(c.now);
      const r = await e.evaluate(input, c.bindings || {});
      fixClock(undefined);
      if (r === undefined) {
        out.push({ undefined: true });
      } else {
        out.push({ value: plain(r) });
      }
    } catch (err) {
      fixClock(undefined);
      out.push({ error: { code: String(err.code || 'JS'), position: err.position || 0, message: String(err.message || err) } });
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { console.error(err); process.exit(1); });
