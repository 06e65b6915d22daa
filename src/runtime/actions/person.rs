//! Asking a person on the terminal, for `ask` steps without an answer in
//! `--answers` when `spesc run` has a terminal.

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::plan::types::{Type, Types};
use crate::runtime::value::conform;
use crate::runtime::Fault;

/// What an `ask` shows a person.
pub struct Asked<'a> {
    pub id: &'a str,
    pub question: &'a str,
    pub shown: &'a str,
    /// `options = [...]`: the answers (or a `Review`'s decisions) allowed.
    pub options: Option<&'a [String]>,
}

/// Shows `shown` and `question` on stderr and reads the answer from stdin:
/// for a `Review`, a decision and an optional comment; otherwise one line,
/// read as the declared type (text as it is, anything else as JSON). An
/// answer that does not fit is explained and asked again.
pub async fn ask_on_terminal(
    asked: &Asked<'_>,
    declared: &Type,
    types: &Types,
) -> Result<Value, Fault> {
    let mut terminal = Terminal {
        err: tokio::io::stderr(),
        lines: BufReader::new(tokio::io::stdin()).lines(),
    };
    let mut say = format!("\n── `{}` asks: {}\n", asked.id, asked.question);
    if !asked.shown.is_empty() {
        say.push_str(&format!("{}\n", asked.shown));
    }
    let is_review = matches!(declared.unwrap_optional(), Type::Named(name) if name == "Review");
    let words = choices(asked, declared, types);
    loop {
        let line = if is_review {
            terminal
                .ask(&format!("{say}decision [{}]: ", words.join("/")))
                .await?
        } else if words.is_empty() {
            terminal.ask(&format!("{say}answer: ")).await?
        } else {
            terminal
                .ask(&format!("{say}answer [{}]: ", words.join("/")))
                .await?
        };
        say.clear();
        let value = if is_review {
            let decision = line.trim().to_lowercase();
            let comment = if words.contains(&decision) {
                terminal.ask("comment (optional): ").await?
            } else {
                String::new()
            };
            let comment = comment.trim();
            serde_json::json!({
                "decision": decision,
                "comment": if comment.is_empty() { Value::Null } else { Value::from(comment) },
            })
        } else {
            read_as(&line, declared, !words.is_empty())
        };
        let problem = match conform(value, declared, types) {
            Ok(value) => match super::ask::offered(&value, asked.options) {
                Ok(()) => return Ok(value),
                Err(problem) => problem,
            },
            Err(problem) => problem,
        };
        terminal
            .say(&format!("that answer does not fit: {problem}; try again\n"))
            .await?;
    }
}

struct Terminal {
    err: tokio::io::Stderr,
    lines: tokio::io::Lines<BufReader<tokio::io::Stdin>>,
}

impl Terminal {
    async fn say(&mut self, text: &str) -> Result<(), Fault> {
        self.err.write_all(text.as_bytes()).await.map_err(io)
    }

    /// One line; the terminal closing is the end of the questions.
    async fn ask(&mut self, prompt: &str) -> Result<String, Fault> {
        self.say(prompt).await?;
        match self.lines.next_line().await.map_err(io)? {
            Some(line) => Ok(line),
            None => Err(Fault::Error("no answer: the terminal closed".to_string())),
        }
    }
}

fn io(e: std::io::Error) -> Fault {
    Fault::Error(format!("cannot ask on the terminal: {e}"))
}

/// The words a person may answer with: the options offered, else an enum
/// answer's variants (a `Review`'s decisions).
fn choices(asked: &Asked<'_>, declared: &Type, types: &Types) -> Vec<String> {
    if let Some(options) = asked.options {
        return options.to_vec();
    }
    let name = match declared.unwrap_optional() {
        Type::Named(name) if name == "Review" => "Decision",
        Type::Named(name) => name.as_str(),
        _ => return Vec::new(),
    };
    match types.get(name) {
        Some(crate::plan::types::TypeDef::Enum { variants, .. }) => variants.clone(),
        // The built-in `Decision` of a `Review`.
        _ if name == "Decision" => ["approve", "revise", "reject"].map(String::from).to_vec(),
        _ => Vec::new(),
    }
}

/// A line as the declared type: text as it is, a word for an enum, JSON
/// for anything else (text when it is not JSON, for the error to name).
fn read_as(line: &str, declared: &Type, is_word: bool) -> Value {
    match declared.unwrap_optional() {
        Type::String => Value::String(line.to_string()),
        _ if is_word => Value::String(line.trim().to_string()),
        _ => serde_json::from_str(line.trim()).unwrap_or(Value::String(line.to_string())),
    }
}
