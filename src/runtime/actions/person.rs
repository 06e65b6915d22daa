//! Asking a person on the terminal, for `ask` steps without an answer in
//! `--answers` when `spesc run` has a terminal.

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::plan::types::{Type, Types};
use crate::runtime::value::conform;
use crate::runtime::Fault;

/// Shows `shown` and `question` on stderr and reads the answer from stdin:
/// for a `Review`, a decision and an optional comment; otherwise one line,
/// read as the declared type (text as it is, anything else as JSON).
pub async fn ask_on_terminal(
    id: &str,
    question: &str,
    shown: &str,
    declared: &Type,
    types: &Types,
) -> Result<Value, Fault> {
    let mut err = tokio::io::stderr();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut say = format!("\n── `{id}` asks: {question}\n");
    if !shown.is_empty() {
        say.push_str(&format!("{shown}\n"));
    }
    let is_review = matches!(declared.unwrap_optional(), Type::Named(name) if name == "Review");
    let io = |e: std::io::Error| Fault::Error(format!("cannot ask on the terminal: {e}"));
    if is_review {
        let decision = loop {
            err.write_all(format!("{say}decision [approve/revise/reject]: ").as_bytes())
                .await
                .map_err(io)?;
            say.clear();
            let line = lines.next_line().await.map_err(io)?.unwrap_or_default();
            let word = line.trim().to_lowercase();
            if ["approve", "revise", "reject"].contains(&word.as_str()) {
                break word;
            }
            if line.is_empty() && word.is_empty() {
                return Err(Fault::Error("no answer: the terminal closed".to_string()));
            }
        };
        err.write_all(b"comment (optional): ").await.map_err(io)?;
        let comment = lines.next_line().await.map_err(io)?.unwrap_or_default();
        let comment = comment.trim();
        let value = serde_json::json!({
            "decision": decision,
            "comment": if comment.is_empty() { Value::Null } else { Value::from(comment) },
        });
        return conform(value, declared, types).map_err(Fault::Error);
    }
    err.write_all(format!("{say}answer: ").as_bytes())
        .await
        .map_err(io)?;
    let line = lines.next_line().await.map_err(io)?.unwrap_or_default();
    let value = match declared.unwrap_optional() {
        Type::String => Value::String(line),
        _ => serde_json::from_str(line.trim()).unwrap_or(Value::String(line)),
    };
    conform(value, declared, types)
        .map_err(|problem| Fault::Error(format!("the answer does not fit: {problem}")))
}
