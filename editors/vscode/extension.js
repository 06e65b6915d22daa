// Starts `spesc lsp` for .spes files when `spesc` is on PATH; without it
// the extension still highlights (the grammar needs no server).
"use strict";

const { execFileSync } = require("child_process");

let client;

function activate() {
  try {
    execFileSync("spesc", ["--version"], { stdio: "ignore" });
  } catch {
    return; // no spesc on PATH: highlighting only
  }
  const { LanguageClient } = require("vscode-languageclient/node");
  client = new LanguageClient(
    "spes",
    "spesc",
    { command: "spesc", args: ["lsp"] },
    { documentSelector: [{ scheme: "file", language: "spes" }] },
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
