// The grammar's tests, headless: scope assertions (tests/constructs.spes,
// vscode-tmgrammar-test), snapshots of every example (tests/snap/,
// vscode-tmgrammar-snap), and a check that no example leaves a
// non-blank character with no scope but the file's own.
//
//   npm ci && npm test              (from editors/vscode)
//   npm test -- --update            accept changed snapshots (review them)
"use strict";

const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const here = path.join(__dirname, "..");
const grammarPath = path.join(here, "syntaxes", "spes.tmLanguage.json");
const examples = path.join(here, "..", "..", "examples");
const snapDir = path.join(__dirname, "snap");
const bin = (name) => path.join(here, "node_modules", ".bin", name);

function examplesList() {
  return fs.readdirSync(examples).filter((f) => f.endsWith(".spes")).sort();
}

function run(tool, args) {
  execFileSync(bin(tool), args, { cwd: here, stdio: "inherit" });
}

async function unscoped() {
  const wasm = fs.readFileSync(path.join(here, "node_modules", "vscode-oniguruma", "release", "onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () => vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath),
  });
  const grammar = await registry.loadGrammar("source.spes");
  const problems = [];
  for (const file of examplesList()) {
    let state = vsctm.INITIAL;
    fs.readFileSync(path.join(examples, file), "utf8").split("\n").forEach((line, n) => {
      const result = grammar.tokenizeLine(line, state);
      for (const token of result.tokens) {
        const text = line.slice(token.startIndex, token.endIndex);
        if (token.scopes.length === 1 && text.trim() !== "") {
          problems.push(`${file}:${n + 1}:${token.startIndex + 1}: no scope for ${JSON.stringify(text)}`);
        }
      }
      state = result.ruleStack;
    });
  }
  if (problems.length) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
  console.log(`✓ every character of ${examplesList().length} examples has a scope`);
}

async function main() {
  run("vscode-tmgrammar-test", ["-g", grammarPath, "tests/constructs.spes"]);
  // The snapshot tool keeps NAME.spes.snap next to NAME.spes: copy the
  // examples in (the copies are not committed, the snapshots are).
  fs.mkdirSync(snapDir, { recursive: true });
  for (const file of examplesList()) {
    fs.copyFileSync(path.join(examples, file), path.join(snapDir, file));
  }
  const update = process.argv.includes("--update") ? ["--updateSnapshot"] : [];
  run("vscode-tmgrammar-snap", ["-g", grammarPath, ...update, "tests/snap/*.spes"]);
  await unscoped();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
