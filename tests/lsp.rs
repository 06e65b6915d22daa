//! `spesc lsp` driven over stdio like an editor does: initialize, open a
//! file with an error, fix it, hover, go to definition, shut down. The
//! replies are snapshots.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

struct Editor {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Editor {
    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.receive()
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.stdout.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length:") {
                length = n.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }
}

const BROKEN: &str = "/// A draft of the article.
type Draft { text: string }

model fast { provider = mock }

workflow write(topic: string) -> Draft {
  /// The first try.
  step draft: Draft { model = fast  prompt = \"Write about {{ topc }}\" }
  return draft
}
";

const CONTRACT: &str = "type Grade { score: float }
model m { provider = mock }
model spare { provider = mock }
workflow g() -> string {
  step grade: Grade { model = m  prompt = \"x\" }
  step use: string { model = m  prompt = \"{{ grade.scroe }}\" }
  return use
}
";

#[test]
fn an_editor_gets_diagnostics_hover_and_definitions() {
    let dir = std::env::temp_dir().join(format!("spesc-lsp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let uri = format!("file://{}/flow.spes", dir.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_spesc"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spesc lsp starts");
    let mut editor = Editor {
        stdin: child.stdin.take().unwrap(),
        stdout: BufReader::new(child.stdout.take().unwrap()),
    };
    let shown = |value: &Value| {
        serde_json::to_string_pretty(value)
            .unwrap()
            .replace(&dir.display().to_string(), "<dir>")
            .replace(env!("CARGO_MANIFEST_DIR"), "<repo>")
    };

    let initialized = editor.request(1, "initialize", json!({"capabilities": {}}));
    insta::assert_snapshot!("initialize", shown(&initialized["result"]["capabilities"]));
    editor.notify("initialized", json!({}));

    editor.notify(
        "textDocument/didOpen",
        json!({"textDocument": {
        "uri": uri, "languageId": "spes", "version": 1, "text": BROKEN}}),
    );
    let opened = editor.receive();
    assert_eq!(opened["method"], "textDocument/publishDiagnostics");
    insta::assert_snapshot!("diagnostics_on_open", shown(&opened["params"]));

    let fixed = BROKEN.replace("topc", "topic");
    editor.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"text": fixed}]}),
    );
    let changed = editor.receive();
    assert_eq!(
        changed["params"]["diagnostics"],
        json!([]),
        "fixed: the error is cleared"
    );

    // `draft` in `return draft`: line 8, column 9.
    let hover = editor.request(
        2,
        "textDocument/hover",
        json!({"textDocument": {"uri": uri},
        "position": {"line": 8, "character": 10}}),
    );
    insta::assert_snapshot!("hover_on_a_step", shown(&hover["result"]));
    // `Draft` in `-> Draft`: line 5.
    let definition = editor.request(
        3,
        "textDocument/definition",
        json!({"textDocument": {"uri": uri},
        "position": {"line": 5, "character": 35}}),
    );
    insta::assert_snapshot!("definition_of_a_type", shown(&definition["result"]));

    let formatted = editor.request(
        5,
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri},
        "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edit = &formatted["result"][0];
    assert_eq!(edit["range"]["start"], json!({"line": 0, "character": 0}));
    assert!(
        edit["newText"]
            .as_str()
            .unwrap()
            .contains("  step draft: Draft { model = fast  prompt"),
        "{formatted}"
    );

    // A contract error: the other places it names are related information.
    let contract = format!("file://{}/contract.spes", dir.display());
    editor.notify(
        "textDocument/didOpen",
        json!({"textDocument": {
        "uri": contract, "languageId": "spes", "version": 1, "text": CONTRACT}}),
    );
    let both = [editor.receive(), editor.receive()];
    let published = both
        .iter()
        .find(|n| n["params"]["uri"] == json!(contract))
        .expect("diagnostics for the new file");
    insta::assert_snapshot!("related_information", shown(&published["params"]));
    let unused = published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "W0502")
        .expect("the unused model is reported");
    assert_eq!(unused["tags"], json!([1]), "marked unnecessary");
    editor.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": contract}}),
    );
    let closed = editor.receive();
    assert_eq!(
        closed["params"]["diagnostics"],
        json!([]),
        "a closed file's diagnostics are cleared"
    );

    let shutdown = editor.request(4, "shutdown", Value::Null);
    assert_eq!(shutdown["result"], Value::Null);
    editor.notify("exit", Value::Null);
    assert!(child.wait().unwrap().success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_message_claiming_terabytes_is_refused_not_allocated() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spesc"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"Content-Length: 99999999999999\r\n\r\n{\"jsonrpc\":\"2.0\"}")
        .unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.code().is_some(),
        "killed by a signal: {stderr}"
    );
    assert!(
        stderr.contains("refused a message of 99999999999999 bytes"),
        "{stderr}"
    );
}
