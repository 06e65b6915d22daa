//! Composing what a model is sent: the agent's components, the `system`
//! text, the context the step asks for, its prompt, and the output format.

use std::collections::HashSet;
use std::rc::Rc;

use super::engine::Engine;
use super::eval::{Eval, Scope};
use super::value::{json_schema, render, schema};
use crate::check::decls::DeclKind;
use crate::check::types::Ty;
use crate::syntax::ast::{ClauseKind, ContextStrategy, Expr, ExprKind, SettingValue, StepDecl};

/// A prompt in the two parts providers keep apart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prompt {
    /// The agent's persona and the step's `system` text.
    pub system: String,
    /// Instructions, context, the prompt itself, the output format.
    pub user: String,
    /// The reply type's JSON schema, for providers that enforce one
    /// (`structured_output = true`); none for text replies and for types
    /// a strict schema cannot say (maps, `json`).
    pub schema: Option<serde_json::Value>,
}

impl Prompt {
    /// Both parts as one text (the mock reads this).
    pub fn text(&self) -> String {
        if self.system.is_empty() {
            self.user.clone()
        } else {
            format!("{}\n\n{}", self.system, self.user)
        }
    }
}

impl<'a> Engine<'a> {
    pub async fn compose(
        &self,
        step: &'a StepDecl,
        scope: &Rc<Scope<'a>>,
        id: &str,
        declared: &Ty,
    ) -> Eval<Prompt> {
        let mut system: Vec<String> = Vec::new();
        let mut user: Vec<String> = Vec::new();
        if let Some(agent) = self.agent_components(step) {
            system.extend(agent.persona);
            user.extend(agent.instructions);
            user.extend(agent.format);
        }
        for clause in &step.clauses {
            match &clause.kind {
                ClauseKind::System(e) => system.push(render(&self.eval(e, scope).await?)),
                ClauseKind::Context(strategy) => {
                    if let Some(context) = self.context(strategy, scope, id).await? {
                        user.push(context);
                    }
                }
                _ => {}
            }
        }
        for clause in &step.clauses {
            if let ClauseKind::Prompt(e) = &clause.kind {
                user.push(render(&self.eval(e, scope).await?));
            }
        }
        let typed = !matches!(declared.unwrap_optional(), Ty::String | Ty::Component);
        if typed {
            user.push(format!(
                "Reply with JSON only, in this shape: {}",
                schema(declared)
            ));
        }
        Ok(Prompt {
            system: system.join("\n\n"),
            user: user.join("\n\n"),
            schema: json_schema(declared).filter(|_| typed),
        })
    }

    /// The texts of the step's agent's components, by role.
    fn agent_components(&self, step: &StepDecl) -> Option<AgentTexts> {
        let name = step.clauses.iter().find_map(|c| match &c.kind {
            ClauseKind::Agent(a) => Some(a.name.as_str()),
            _ => None,
        })?;
        let settings = self.program().files.iter().find_map(|f| {
            let id = self.decls().id_of(f.id, name)?;
            match self.decls().all[id].kind {
                DeclKind::Agent(a) => Some(&a.settings),
                _ => None,
            }
        })?;
        let text_of = |key: &str| -> Vec<String> {
            settings
                .iter()
                .filter(|s| s.key.name == key)
                .filter_map(|s| match &s.value {
                    SettingValue::Expr(Expr {
                        kind: ExprKind::Name(n),
                        ..
                    }) => self.component_text(&n.name),
                    _ => None,
                })
                .collect()
        };
        let mut instructions = text_of("instruction");
        instructions.extend(text_of("constraint"));
        Some(AgentTexts {
            persona: text_of("persona"),
            instructions,
            format: text_of("format"),
        })
    }

    /// The context section: `[a, b]` hands over those outputs; `all` and
    /// `summarized(…)` every upstream output (summarized by the given model
    /// only when over `max_tokens`); `fresh` nothing.
    async fn context(
        &self,
        strategy: &'a ContextStrategy,
        scope: &Rc<Scope<'a>>,
        id: &str,
    ) -> Eval<Option<String>> {
        let names: Vec<String> = match strategy {
            ContextStrategy::Fresh(_) => return Ok(None),
            ContextStrategy::Steps(names, _) => names.iter().map(|n| n.name.clone()).collect(),
            ContextStrategy::All(_) | ContextStrategy::Summarized(..) => self.upstream(scope, id),
        };
        let mut sections = Vec::new();
        for name in names {
            if let Some(slot) = scope.lookup(&name) {
                let value = slot.get().await?;
                if !value.is_null() {
                    sections.push(format!("## {name}\n{}", render(&value)));
                }
            }
        }
        if sections.is_empty() {
            return Ok(None);
        }
        let context = format!("Context:\n\n{}", sections.join("\n\n"));
        if let ContextStrategy::Summarized(args, _) = strategy {
            let budget = args
                .iter()
                .find(|a| a.name.as_ref().is_some_and(|n| n.name == "max_tokens"))
                .and_then(|a| match a.value.kind {
                    ExprKind::Int(n) => u64::try_from(n).ok(),
                    _ => None,
                })
                .unwrap_or(1000);
            let tokens = crate::check::estimate_tokens(context.chars().count());
            if tokens > budget {
                let model = args
                    .iter()
                    .find(|a| a.name.as_ref().is_some_and(|n| n.name == "model"))
                    .and_then(|a| match &a.value.kind {
                        ExprKind::Name(n) => Some(n.name.clone()),
                        _ => None,
                    });
                let summary = match model {
                    Some(model) => self.summarize_with(&model, &context, budget, id).await?,
                    None => shorten(&context, budget),
                };
                return Ok(Some(format!("Context (summarized):\n\n{summary}")));
            }
        }
        Ok(Some(context))
    }

    /// The names of every step upstream of `id` in the plan, nearest last.
    fn upstream(&self, scope: &Rc<Scope<'a>>, id: &str) -> Vec<String> {
        let nodes = &scope.place().workflow.nodes;
        let mut seen: HashSet<&str> = HashSet::new();
        let mut todo: Vec<&str> = vec![id];
        while let Some(current) = todo.pop() {
            let Some(node) = nodes.iter().find(|n| n.id == current) else {
                continue;
            };
            for dep in node.deps.iter().chain(&node.after) {
                if seen.insert(dep) {
                    todo.push(dep);
                }
            }
        }
        nodes
            .iter()
            .filter(|n| seen.contains(n.id.as_str()))
            .map(|n| n.name.clone())
            .collect()
    }
}

/// Without a summarizer model: the context cut to the budget (about four
/// characters per token).
fn shorten(context: &str, budget: u64) -> String {
    let keep = (budget as usize).saturating_mul(4);
    context.chars().take(keep).collect()
}

struct AgentTexts {
    persona: Vec<String>,
    instructions: Vec<String>,
    format: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{compile, NoFiles};
    use crate::run::eval::Slot;
    use crate::run::RunOptions;
    use crate::source::SourceMap;
    use crate::syntax::ast::{Item, Stmt};
    use serde_json::Value;
    use std::collections::HashMap;

    const SOURCE: &str = r#"
model fast { provider = mock }
component persona = "You are a careful reviewer."
component how = "List problems, one per line."
component shape = "Each line: severity, problem."
agent reviewer { persona = persona  instruction = how  format = shape  model = fast }
type Verdict { ok: bool }
workflow w(code: string) -> bool {
  step notes: string { model = fast  prompt = "Notes on {{ code }}" }
  step review: Verdict {
    agent = reviewer
    system = "Be brief."
    context = [notes]
    prompt = "Review {{ code }}"
  }
  return review.ok
}
"#;

    #[test]
    fn agents_context_and_output_format_are_composed_in_order() {
        let mut sources = SourceMap::new();
        let file = sources.add("t.spes", SOURCE);
        let compiled = compile(
            &mut sources,
            &[(file, "t.spes".into())],
            &NoFiles,
            &Default::default(),
        );
        let plan = compiled.plan.as_ref().expect("clean");
        let options = RunOptions::default();
        let engine = Engine::new(&compiled.program, plan, &NoFiles, &options, 1);
        let Some(Item::Workflow(w)) = compiled.program.files[0].ast.items.last() else {
            panic!("a workflow");
        };
        let Stmt::Step(review) = &w.body[1] else {
            panic!("a step")
        };
        let place = super::super::engine::Place {
            file,
            workflow: &plan.workflows[0],
            owner: String::new(),
        };
        let scope = Scope::root(
            HashMap::from([
                (
                    "code".to_string(),
                    Slot::filled(Value::from("fn main() {}")),
                ),
                ("notes".to_string(), Slot::filled(Value::from("looks fine"))),
            ]),
            place,
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let declared = engine
            .decls()
            .resolve_type(file, &review.ty)
            .expect("a type");
        let prompt = runtime
            .block_on(engine.compose(review, &scope, "review", &declared))
            .expect("composes");
        assert_eq!(prompt.system, "You are a careful reviewer.\n\nBe brief.");
        assert_eq!(
            prompt.user,
            "List problems, one per line.\n\nEach line: severity, problem.\n\n\
             Context:\n\n## notes\nlooks fine\n\nReview fn main() {}\n\n\
             Reply with JSON only, in this shape: {\"ok\": true or false}"
        );
    }
}
