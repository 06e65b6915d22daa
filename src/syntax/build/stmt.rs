//! Builders for statements, step actions and step clauses.

use pest::iterators::Pair;

use super::super::ast::*;
use super::super::errors::{Recovery, SyntaxError};
use super::super::parser::Rule;
use super::{decl, expr, kids, take_doc, Ctx};

pub(in crate::syntax) fn statement(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<Stmt> {
    Some(match pair.as_rule() {
        Rule::step_stmt => Stmt::Step(step(ctx, pair)?),
        Rule::let_stmt => Stmt::Let(let_stmt(ctx, pair)?),
        Rule::loop_stmt => Stmt::Loop(loop_stmt(ctx, pair)?),
        _ => {
            ctx.bug(&pair, "a statement");
            return None;
        }
    })
}

/// Statements of a block, reporting bad lines.
pub(super) fn statements<'i>(
    ctx: &mut Ctx<'_>,
    members: impl Iterator<Item = Pair<'i, Rule>>,
) -> Vec<Stmt> {
    let mut out = Vec::new();
    for member in members {
        if member.as_rule() == Rule::recover_line {
            ctx.recover(&member, Recovery::Statement);
        } else {
            out.extend(statement(ctx, member));
        }
    }
    out
}

fn step(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<StepDecl> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair).peekable();
    let doc = take_doc(ctx, &mut kids);
    kids.next(); // `step`
    let name = ctx.ident(&kids.next()?);
    let ty = expr::type_expr(ctx, kids.next()?)?;
    let mut action = Action::Llm;
    let mut clauses = Vec::new();
    for member in kids {
        match member.as_rule() {
            // The older form's second block: its clauses join the action's.
            Rule::clause_block => clauses.extend(clause_block(ctx, member)),
            _ => {
                let (built, own) = self::action(ctx, member)?;
                action = built;
                clauses.extend(own);
            }
        }
    }
    Some(StepDecl {
        doc,
        name,
        ty,
        action,
        clauses,
        span,
    })
}

/// A step's action, and the clauses written inside its block.
fn action(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<(Action, Vec<Clause>)> {
    let span = ctx.span(&pair);
    let mut parts = kids(&pair).skip(1); // the keyword
    let mut block = |ctx: &mut Ctx<'_>, kind| -> Option<(ActionBlock, Vec<Clause>)> {
        Some(action_block(ctx, parts.next()?, kind))
    };
    Some(match pair.as_rule() {
        Rule::call_action => {
            let workflow = ctx.ident(&parts.next()?);
            let args = expr::arg_list(ctx, parts.next()?);
            (Action::Call { workflow, args }, Vec::new())
        }
        Rule::exec_action => {
            let (settings, clauses) = block(ctx, ActionKind::Exec)?;
            (Action::Exec(settings), clauses)
        }
        Rule::fetch_action => {
            let (settings, clauses) = block(ctx, ActionKind::Fetch)?;
            (Action::Fetch(settings), clauses)
        }
        Rule::ask_action => {
            let (settings, clauses) = block(ctx, ActionKind::Ask)?;
            (Action::Ask(settings), clauses)
        }
        Rule::bad_action => {
            ctx.errors.push(SyntaxError::BadAction { span });
            return None;
        }
        _ => {
            ctx.bug(&pair, "a step action");
            return None;
        }
    })
}

/// The settings each action block accepts (its step's clauses aside).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::syntax) enum ActionKind {
    Exec,
    Fetch,
    Ask,
    /// `compensate = exec { … }`: a command with its own `timeout`.
    Undo,
}

impl ActionKind {
    pub fn keyword(self) -> &'static str {
        match self {
            ActionKind::Exec | ActionKind::Undo => "exec",
            ActionKind::Fetch => "fetch",
            ActionKind::Ask => "ask",
        }
    }

    pub fn keys(self) -> &'static [&'static str] {
        match self {
            ActionKind::Exec => &["command", "stdin", "env", "inherit", "cwd"],
            ActionKind::Undo => &["command", "stdin", "env", "inherit", "cwd", "timeout"],
            ActionKind::Fetch => &["url", "method", "headers", "query", "body"],
            ActionKind::Ask => &["show", "question", "options"],
        }
    }

    /// Whether the block also holds its step's clauses.
    pub fn takes_clauses(self) -> bool {
        self != ActionKind::Undo
    }

    fn required(self) -> &'static str {
        match self {
            ActionKind::Exec | ActionKind::Undo => "command",
            ActionKind::Fetch => "url",
            ActionKind::Ask => "question",
        }
    }
}

/// An action's block: its settings, checked against what the action
/// takes, and the step's clauses written beside them.
fn action_block(
    ctx: &mut Ctx<'_>,
    pair: Pair<'_, Rule>,
    kind: ActionKind,
) -> (ActionBlock, Vec<Clause>) {
    let span = ctx.span(&pair);
    let mut settings = Vec::new();
    let mut clauses = Vec::new();
    for member in kids(&pair) {
        match member.as_rule() {
            Rule::setting => settings.extend(decl::setting(ctx, member)),
            Rule::recover_line => ctx.recover(&member, Recovery::Setting),
            _ => clauses.extend(clause(ctx, member)),
        }
    }
    (checked_settings(ctx, settings, span, kind), clauses)
}

/// `compensate = exec { … }`: settings only.
fn undo_block(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> ActionBlock {
    let span = ctx.span(&pair);
    let settings = decl::settings(ctx, pair);
    checked_settings(ctx, settings, span, ActionKind::Undo)
}

fn checked_settings(
    ctx: &mut Ctx<'_>,
    settings: Vec<Setting>,
    span: crate::source::Span,
    kind: ActionKind,
) -> ActionBlock {
    for setting in &settings {
        if !kind.keys().contains(&setting.key.name.as_str()) {
            ctx.errors.push(SyntaxError::UnknownActionKey {
                span: setting.key.span,
                key: setting.key.name.clone(),
                kind,
            });
        }
    }
    if !settings.iter().any(|s| s.key.name == kind.required()) {
        ctx.errors.push(SyntaxError::MissingActionKey {
            span,
            key: kind.required(),
            kind,
        });
    }
    ActionBlock { settings, span }
}

pub(super) fn clause_block(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Vec<Clause> {
    let mut clauses = Vec::new();
    for member in kids(&pair) {
        match member.as_rule() {
            Rule::recover_line => ctx.recover(&member, Recovery::Clause),
            _ => clauses.extend(clause(ctx, member)),
        }
    }
    clauses
}

fn clause(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<Clause> {
    let span = ctx.span(&pair);
    let rule = pair.as_rule();
    // Every clause but `check` is `key = value`: the value is the last child.
    let value = || kids(&pair).last();
    let kind = match rule {
        Rule::model_clause => ClauseKind::Model(kids(&value()?).map(|p| ctx.ident(&p)).collect()),
        Rule::agent_clause => ClauseKind::Agent(ctx.ident(&value()?)),
        Rule::prompt_clause => ClauseKind::Prompt(expr::expr(ctx, value()?)?),
        Rule::system_clause => ClauseKind::System(expr::expr(ctx, value()?)?),
        Rule::context_clause => ClauseKind::Context(context(ctx, value()?)?),
        Rule::retry_clause => {
            let v = value()?;
            let v_span = ctx.span(&v);
            match v.as_rule() {
                Rule::settings => {
                    ClauseKind::Retry(RetryRef::Inline(decl::settings(ctx, v), v_span))
                }
                _ => ClauseKind::Retry(RetryRef::Named(ctx.ident(&v))),
            }
        }
        Rule::timeout_clause => ClauseKind::Timeout(expr::expr(ctx, value()?)?),
        Rule::deadline_clause => ClauseKind::Deadline(expr::expr(ctx, value()?)?),
        Rule::check_clause => {
            let mut exprs = kids(&pair).filter(|p| p.as_rule() == Rule::expr);
            let condition = expr::expr(ctx, exprs.next()?)?;
            let message = expr::expr(ctx, exprs.next()?)?;
            ClauseKind::Check { condition, message }
        }
        Rule::when_clause => ClauseKind::When(expr::expr(ctx, value()?)?),
        Rule::on_error_clause => ClauseKind::OnError(expr::expr(ctx, value()?)?),
        Rule::compensate_clause => ClauseKind::Compensate(undo_block(ctx, value()?)),
        Rule::after_clause => ClauseKind::After(
            kids(&pair)
                .filter(|p| p.as_rule() == Rule::ident)
                .map(|p| ctx.ident(&p))
                .collect(),
        ),
        Rule::cache_clause => ClauseKind::Cache(expr::expr(ctx, value()?)?),
        Rule::unknown_clause => {
            let key = kids(&pair).next()?;
            let value = kids(&pair).nth(1)?;
            ctx.errors.push(SyntaxError::UnknownClause {
                span: ctx.span(&key),
                key: key.as_str().to_string(),
                value: value.as_str().to_string(),
                value_span: ctx.span(&value),
            });
            let names = pair
                .clone()
                .into_inner()
                .skip(1)
                .flat_map(|value| value.into_inner().flatten())
                .filter(|p| matches!(p.as_rule(), Rule::ident | Rule::name))
                .map(|p| p.as_str().to_string())
                .collect();
            ctx.left_out
                .push(crate::syntax::LeftOut { at: span, names });
            return None;
        }
        _ => {
            ctx.bug(&pair, "a step clause");
            return None;
        }
    };
    Some(Clause { kind, span })
}

fn context(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<ContextStrategy> {
    let span = ctx.span(&pair);
    Some(match pair.as_rule() {
        Rule::context_fresh => ContextStrategy::Fresh(span),
        Rule::context_all => ContextStrategy::All(span),
        Rule::context_steps => {
            ContextStrategy::Steps(kids(&pair).map(|p| ctx.ident(&p)).collect(), span)
        }
        Rule::context_summarized => {
            let args = kids(&pair).last()?;
            ContextStrategy::Summarized(expr::arg_list(ctx, args), span)
        }
        _ => {
            ctx.bug(&pair, "a context strategy");
            return None;
        }
    })
}

fn let_stmt(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<LetStmt> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair).peekable();
    let doc = take_doc(ctx, &mut kids);
    kids.next(); // `let`
    let name = ctx.ident(&kids.next()?);
    let mut ty = None;
    let mut value = None;
    for part in kids {
        match part.as_rule() {
            Rule::type_expr => ty = expr::type_expr(ctx, part),
            _ => value = expr::expr(ctx, part),
        }
    }
    Some(LetStmt {
        doc,
        name,
        ty,
        value: value?,
        span,
    })
}

fn loop_stmt(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<LoopStmt> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair).peekable();
    let doc = take_doc(ctx, &mut kids);
    kids.next(); // `loop`
    let name = ctx.ident(&kids.next()?);
    let options = match kids.next_if(|p| p.as_rule() == Rule::arg_list) {
        Some(list) => expr::arg_list(ctx, list),
        None => Vec::new(),
    };
    let mut body_pairs = Vec::new();
    let mut until = None;
    for member in kids {
        match member.as_rule() {
            Rule::until_clause => {
                until = super::kids(&member)
                    .nth(1)
                    .and_then(|cond| expr::expr(ctx, cond));
            }
            _ => body_pairs.push(member),
        }
    }
    let body = statements(ctx, body_pairs.into_iter());
    Some(LoopStmt {
        doc,
        name,
        options,
        body,
        until,
        span,
    })
}

pub(super) fn workflow_setting(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<WorkflowSetting> {
    let span = ctx.span(&pair);
    let inner = kids(&pair).last()?;
    let kind = match inner.as_rule() {
        Rule::wf_deadline => WorkflowSettingKind::Deadline(expr::expr(ctx, kids(&inner).last()?)?),
        Rule::wf_max_concurrency => {
            WorkflowSettingKind::MaxConcurrency(expr::expr(ctx, kids(&inner).last()?)?)
        }
        _ => {
            let clause = clause(ctx, inner)?;
            if !can_default(&clause.kind) {
                ctx.errors
                    .push(SyntaxError::NotADefault { span: clause.span });
                return None;
            }
            WorkflowSettingKind::Default(clause)
        }
    };
    Some(WorkflowSetting { kind, span })
}

/// Clauses that make sense for every step of a workflow.
fn can_default(kind: &ClauseKind) -> bool {
    matches!(
        kind,
        ClauseKind::Model(_)
            | ClauseKind::Agent(_)
            | ClauseKind::System(_)
            | ClauseKind::Context(_)
            | ClauseKind::Retry(_)
            | ClauseKind::Timeout(_)
            | ClauseKind::Deadline(_)
            | ClauseKind::Cache(_)
    )
}
