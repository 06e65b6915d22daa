//! `ask`: a question for a person, answered by `spesc approve`, by
//! `--answers`, or on the terminal; otherwise the run waits.

use serde_json::Value;

use crate::lang::value::render;
use crate::plan::instance::name_of;
use crate::plan::types::Type;
use crate::plan::Ask;
use crate::runtime::engine::Engine;
use crate::runtime::frame::Env;
use crate::runtime::value::conform;
use crate::runtime::{Eval, Fault, Stop};

impl<'p> Engine<'p> {
    pub async fn ask(&self, ask: &'p Ask, env: &Env, id: &str, ty: &Type) -> Eval<Value> {
        let question = match &ask.question {
            Some(q) => self.text(q, env).await?,
            None => String::new(),
        };
        let options = match &ask.options {
            Some(e) => Some(choices(&self.eval(e, env).await?)),
            None => None,
        };
        let approved = self.approvals.borrow_mut().remove(id);
        let answer = approved.or_else(|| {
            let answers = &self.options.answers;
            answers
                .get(id)
                .or_else(|| answers.get(name_of(id)))
                .cloned()
        });
        match answer {
            Some(answer) => conform(answer, ty, &self.plan.types)
                .and_then(|value| offered(&value, options.as_deref()).map(|()| value))
                .map_err(|problem| {
                    Fault::Error(format!("the answer for `{id}` does not fit: {problem}"))
                }),
            None if self.options.interactive => {
                let shown = match &ask.show {
                    Some(e) => render(&self.eval(e, env).await?),
                    None => String::new(),
                };
                // One question at a time, even when steps ask at once.
                let _turn = self.terminal.lock().await;
                let asked = super::person::Asked {
                    id,
                    question: &question,
                    shown: &shown,
                    options: options.as_deref(),
                };
                super::person::ask_on_terminal(&asked, ty, &self.plan.types).await
            }
            None => Err(Fault::Stop(Stop::Waiting {
                step: id.to_string(),
                question,
            })),
        }
    }
}

/// The words of an `options` list.
fn choices(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| items.iter().map(render).collect())
        .unwrap_or_default()
}

/// Whether an answer is one of the options offered: the answer itself, or
/// a `Review`'s `decision`.
pub fn offered(answer: &Value, options: Option<&[String]>) -> Result<(), String> {
    let Some(options) = options else {
        return Ok(());
    };
    let choice = answer.get("decision").unwrap_or(answer);
    let word = render(choice);
    if options.contains(&word) {
        return Ok(());
    }
    let listed: Vec<&str> = options.iter().map(String::as_str).collect();
    Err(format!(
        "`{word}` is not one of the options offered: {}",
        crate::suggest::one_of(&listed)
    ))
}
