//! Builders for top-level declarations and settings blocks.

use pest::iterators::Pair;

use super::super::ast::*;
use super::super::errors::{Recovery, SyntaxError};
use super::super::parser::Rule;
use super::{expr, kids, stmt, take_doc, template, Ctx};

pub(in crate::syntax) fn item(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<Item> {
    Some(match pair.as_rule() {
        Rule::import_decl => Item::Import(import(ctx, pair)?),
        Rule::type_decl => Item::Type(type_decl(ctx, pair)?),
        Rule::enum_decl => Item::Enum(enum_decl(ctx, pair)?),
        Rule::model_decl => {
            let (doc, name, settings, span) = named_settings(ctx, pair)?;
            Item::Model(ModelDecl {
                doc,
                name,
                settings,
                span,
            })
        }
        Rule::retry_decl => {
            let (doc, name, settings, span) = named_settings(ctx, pair)?;
            Item::Retry(RetryDecl {
                doc,
                name,
                settings,
                span,
            })
        }
        Rule::agent_decl => {
            let (doc, name, settings, span) = named_settings(ctx, pair)?;
            Item::Agent(AgentDecl {
                doc,
                name,
                settings,
                span,
            })
        }
        Rule::component_decl => Item::Component(component(ctx, pair)?),
        Rule::workflow_decl => Item::Workflow(Box::new(workflow(ctx, pair)?)),
        Rule::test_decl => Item::Test(test(ctx, pair)?),
        _ => {
            ctx.bug(&pair, "a declaration");
            return None;
        }
    })
}

fn import(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<Import> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair).peekable();
    let doc = take_doc(ctx, &mut kids);
    kids.next(); // `import`
    let path = plain_string(ctx, kids.next(), span, "an import path")?;
    Some(Import { doc, path, span })
}

/// A string that must not contain `{{ }}` or `{% %}`: paths.
pub(super) fn plain_string(
    ctx: &mut Ctx<'_>,
    pair: Option<Pair<'_, Rule>>,
    parent: crate::source::Span,
    what: &'static str,
) -> Option<PlainString> {
    let Some(pair) = pair else {
        ctx.missing(parent, what);
        return None;
    };
    let template = template::string(ctx, pair)?;
    match template.as_plain() {
        Some(value) => Some(PlainString {
            value,
            span: template.span,
        }),
        None => {
            ctx.errors.push(SyntaxError::TemplateNotAllowed {
                span: template.span,
                what,
            });
            None
        }
    }
}

fn type_decl(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<TypeDecl> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair).peekable();
    let doc = take_doc(ctx, &mut kids);
    kids.next(); // `type`
    let name = ctx.ident(&kids.next()?);
    let mut fields = Vec::new();
    for member in kids {
        match member.as_rule() {
            Rule::field_decl => fields.extend(field(ctx, member)),
            Rule::recover_line => ctx.recover(&member, Recovery::Field),
            _ => ctx.bug(&member, "a type field"),
        }
    }
    Some(TypeDecl {
        doc,
        name,
        fields,
        span,
    })
}

fn field(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<FieldDecl> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair).peekable();
    let doc = take_doc(ctx, &mut kids);
    let name = ctx.ident(&kids.next()?);
    let ty = expr::type_expr(ctx, kids.next()?)?;
    let aliases = aliases(ctx, kids);
    Some(FieldDecl {
        doc,
        name,
        ty,
        aliases,
        span,
    })
}

/// The `alias "k"` clauses of a field or a variant; one without its
/// string is reported.
fn aliases<'i>(
    ctx: &mut Ctx<'_>,
    clauses: impl Iterator<Item = Pair<'i, Rule>>,
) -> Vec<PlainString> {
    clauses
        .filter_map(|clause| {
            let span = ctx.span(&clause);
            if clause.as_rule() == Rule::alias_missing {
                let word = kids(&clause).nth(1).map(|w| w.as_str().to_string());
                ctx.errors
                    .push(SyntaxError::AliasWithoutName { span, word });
                return None;
            }
            let mut parts = kids(&clause);
            parts.next(); // `alias`
            plain_string(ctx, parts.next(), span, "an alias")
        })
        .collect()
}

fn enum_decl(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<EnumDecl> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair).peekable();
    let doc = take_doc(ctx, &mut kids);
    kids.next(); // `enum`
    let name = ctx.ident(&kids.next()?);
    let mut variants = Vec::new();
    for member in kids {
        match member.as_rule() {
            Rule::variant => {
                let span = ctx.span(&member);
                let mut parts = super::kids(&member).peekable();
                let doc = take_doc(ctx, &mut parts);
                if let Some(name) = parts.next() {
                    let name = ctx.ident(&name);
                    let aliases = aliases(ctx, parts);
                    variants.push(Variant {
                        doc,
                        name,
                        aliases,
                        span,
                    });
                }
            }
            Rule::recover_line => ctx.recover(&member, Recovery::Variant),
            _ => ctx.bug(&member, "an enum variant"),
        }
    }
    Some(EnumDecl {
        doc,
        name,
        variants,
        span,
    })
}

type NamedSettings = (Option<Doc>, Ident, Vec<Setting>, crate::source::Span);

/// `model`, `retry` and `agent` share one shape: a name and settings.
fn named_settings(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<NamedSettings> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair).peekable();
    let doc = take_doc(ctx, &mut kids);
    kids.next(); // keyword
    let name = ctx.ident(&kids.next()?);
    let settings = settings(ctx, kids.next()?);
    Some((doc, name, settings, span))
}

/// `{ key = value, … }`
pub(super) fn settings(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Vec<Setting> {
    let mut out = Vec::new();
    for member in kids(&pair) {
        match member.as_rule() {
            Rule::setting => out.extend(setting(ctx, member)),
            Rule::recover_line => ctx.recover(&member, Recovery::Setting),
            _ => ctx.bug(&member, "a setting"),
        }
    }
    out
}

pub(super) fn setting(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<Setting> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair);
    let key = ctx.ident(&kids.next()?);
    let value = setting_value(ctx, kids.next()?)?;
    Some(Setting { key, value, span })
}

pub(super) fn setting_value(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<SettingValue> {
    Some(match pair.as_rule() {
        Rule::settings => {
            let span = ctx.span(&pair);
            SettingValue::Block(settings(ctx, pair), span)
        }
        Rule::model_chain_alt => SettingValue::Chain(kids(&pair).map(|p| ctx.ident(&p)).collect()),
        Rule::expr => SettingValue::Expr(expr::expr(ctx, pair)?),
        _ => {
            ctx.bug(&pair, "a setting value");
            return None;
        }
    })
}

fn component(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<ComponentDecl> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair).peekable();
    let doc = take_doc(ctx, &mut kids);
    kids.next(); // `component`
    let name = ctx.ident(&kids.next()?);
    let value = kids.next()?;
    let source = match value.as_rule() {
        Rule::component_file => {
            let path = super::kids(&value).find(|p| p.as_rule() == Rule::string);
            ComponentSource::File(plain_string(ctx, path, span, "a component file path")?)
        }
        Rule::string => ComponentSource::Inline(template::string(ctx, value)?),
        _ => {
            ctx.bug(&value, "a component");
            return None;
        }
    };
    Some(ComponentDecl {
        doc,
        name,
        source,
        span,
    })
}

fn workflow(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<WorkflowDecl> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair).peekable();
    let doc = take_doc(ctx, &mut kids);
    kids.next(); // `workflow`
    let name = ctx.ident(&kids.next()?);
    let mut decl = WorkflowDecl {
        doc,
        name,
        params: Vec::new(),
        output: None,
        settings: Vec::new(),
        body: Vec::new(),
        ret: None,
        span,
    };
    for member in kids {
        match member.as_rule() {
            Rule::params => {
                for param in super::kids(&member) {
                    decl.params.extend(self::param(ctx, param));
                }
            }
            Rule::type_expr => decl.output = expr::type_expr(ctx, member),
            Rule::workflow_setting => decl.settings.extend(stmt::workflow_setting(ctx, member)),
            Rule::return_stmt => {
                let span = ctx.span(&member);
                if let Some(value) = super::kids(&member).find(|p| p.as_rule() == Rule::expr) {
                    decl.ret = expr::expr(ctx, value).map(|value| Return { value, span });
                }
            }
            Rule::recover_line => ctx.recover(&member, Recovery::Statement),
            _ => decl.body.extend(stmt::statement(ctx, member)),
        }
    }
    Some(decl)
}

fn param(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<Param> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair);
    let name = ctx.ident(&kids.next()?);
    let ty = expr::type_expr(ctx, kids.next()?)?;
    let default = match kids.next() {
        Some(value) => Some(expr::expr(ctx, value)?),
        None => None,
    };
    Some(Param {
        name,
        ty,
        default,
        span,
    })
}

fn test(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<TestDecl> {
    let span = ctx.span(&pair);
    let mut kids = kids(&pair).peekable();
    let doc = take_doc(ctx, &mut kids);
    kids.next(); // `test`
    let name = plain_string(ctx, kids.next(), span, "a test name")?;
    let mut body = Vec::new();
    for member in kids {
        let span = ctx.span(&member);
        match member.as_rule() {
            Rule::test_run => {
                let mut parts = super::kids(&member).skip(1);
                let (Some(workflow), Some(args)) = (parts.next(), parts.next()) else {
                    ctx.missing(span, "a workflow call");
                    continue;
                };
                body.push(TestStmt::Run {
                    workflow: ctx.ident(&workflow),
                    args: expr::arg_list(ctx, args),
                    span,
                });
            }
            Rule::test_given => {
                let mut parts = super::kids(&member).skip(1);
                let (Some(step), Some(value)) = (parts.next(), parts.next()) else {
                    ctx.missing(span, "a canned step output");
                    continue;
                };
                let step = ctx.ident(&step);
                if let Some(value) = expr::expr(ctx, value) {
                    body.push(TestStmt::Given { step, value, span });
                }
            }
            Rule::test_expect => {
                if let Some(condition) = super::kids(&member).nth(1) {
                    if let Some(condition) = expr::expr(ctx, condition) {
                        body.push(TestStmt::Expect { condition, span });
                    }
                }
            }
            Rule::recover_line => ctx.recover(&member, Recovery::TestStmt),
            _ => ctx.bug(&member, "a test statement"),
        }
    }
    Some(TestDecl {
        doc,
        name,
        body,
        span,
    })
}
