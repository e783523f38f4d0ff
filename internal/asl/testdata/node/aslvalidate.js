// Reads JSON lines {"name": ..., "definition": {...}} on stdin and writes, per
// line, {"name": ..., "valid": bool, "errors": "..."} as judged by the npm
// package asl-validator (pinned in tools/package.json).
const aslValidator = require("asl-validator");
const readline = require("readline");
const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (!line.trim()) return;
  const { name, definition } = JSON.parse(line);
  let out;
  try {
    const { isValid, errorsText } = aslValidator(definition, { checkArn: true, checkPaths: true });
    out = { name, valid: isValid, errors: isValid ? "" : errorsText("; ") };
  } catch (e) {
    out = { name, valid: false, errors: "exception: " + e.message };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
});
