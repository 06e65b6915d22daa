//! Reading settings: a setting by key, its value as a word, text, names,
//! a number or a duration, and the model and retry policy a declaration's
//! settings describe (with the built-in defaults where one is not set).
//! The checker reports what is wrong with them (`config.rs`); this reads
//! them for it, for policy resolution and for lowering.

use crate::lang::model::{api_key_variable, Breaker, Model, Price, Provider};
use crate::lang::policy::{defaults, Backoff, ErrorClass, Jitter, RetryPolicy};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, Setting, SettingValue};

pub fn find<'s>(settings: &'s [Setting], key: &str) -> Option<&'s Setting> {
    settings.iter().find(|s| s.key.name == key)
}

pub(crate) fn value_span(setting: &Setting) -> Span {
    match &setting.value {
        SettingValue::Expr(e) => e.span,
        SettingValue::Block(_, span) => *span,
        SettingValue::Chain(names) => names
            .first()
            .zip(names.last())
            .map_or(setting.span, |(a, b)| a.span.to(b.span)),
    }
}

/// A bare word value: `provider = anthropic`.
pub(crate) fn word(value: &SettingValue) -> Option<&str> {
    match value {
        SettingValue::Expr(Expr {
            kind: ExprKind::Name(n),
            ..
        }) => Some(&n.name),
        _ => None,
    }
}

/// A setting written as a plain string or a bare word: `name = "gpt-4o"`,
/// `provider = openai`.
pub fn text_value(value: &SettingValue) -> Option<String> {
    word(value)
        .map(String::from)
        .or_else(|| string_value(value))
}

fn string_value(value: &SettingValue) -> Option<String> {
    match value {
        SettingValue::Expr(Expr {
            kind: ExprKind::String(t),
            ..
        }) => t.as_plain(),
        _ => None,
    }
}

/// A list of plain strings written out: `["GITHUB_TOKEN", "HTTPS_PROXY"]`.
pub fn names_value(value: &SettingValue) -> Option<Vec<String>> {
    let SettingValue::Expr(Expr {
        kind: ExprKind::List(items),
        ..
    }) = value
    else {
        return None;
    };
    items
        .iter()
        .map(|item| match &item.kind {
            ExprKind::String(t) => t.as_plain(),
            _ => None,
        })
        .collect()
}

pub fn int_value(value: &SettingValue) -> Option<i64> {
    match value {
        SettingValue::Expr(Expr {
            kind: ExprKind::Int(n),
            ..
        }) => Some(*n),
        _ => None,
    }
}

pub fn number(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Int(n) => Some(*n as f64),
        ExprKind::Float(f) => Some(*f),
        ExprKind::Paren(inner) => number(inner),
        _ => None,
    }
}

pub fn duration_ms(e: &Expr) -> Option<u64> {
    match &e.kind {
        ExprKind::Duration(ms) => Some(*ms),
        ExprKind::Paren(inner) => duration_ms(inner),
        _ => None,
    }
}

/// A model declaration's settings, resolved: what is not written takes
/// its default. Called on checked settings; a value the checker refused
/// reads as not written.
pub fn model_of(name: &str, settings: &[Setting]) -> Model {
    let value = |key: &str| find(settings, key).map(|s| &s.value);
    let text = |key: &str| value(key).and_then(text_value);
    let whole = |key: &str| {
        value(key)
            .and_then(int_value)
            .and_then(|n| u64::try_from(n).ok())
    };
    let duration = |key: &str| match value(key) {
        Some(SettingValue::Expr(e)) => duration_ms(e),
        _ => None,
    };
    let flag = |key: &str| {
        matches!(
            value(key),
            Some(SettingValue::Expr(Expr {
                kind: ExprKind::Bool(true),
                ..
            }))
        )
    };
    let block = |key: &str| match value(key) {
        Some(SettingValue::Block(inner, _)) => Some(inner.as_slice()),
        _ => None,
    };
    let provider = text("provider").and_then(|p| Provider::parse(&p));
    let base_url = text("base_url");
    let breaker = block("breaker").map_or_else(Breaker::default, |inner| {
        let default = Breaker::default();
        Breaker {
            failures: find(inner, "failures")
                .and_then(|s| int_value(&s.value))
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(default.failures)
                .max(1),
            cooldown_ms: find(inner, "cooldown")
                .and_then(|s| match &s.value {
                    SettingValue::Expr(e) => duration_ms(e),
                    _ => None,
                })
                .unwrap_or(default.cooldown_ms),
        }
    });
    let price = block("price").map(|inner| {
        let rate = |key: &str| match find(inner, key).map(|s| &s.value) {
            Some(SettingValue::Expr(e)) => number(e).unwrap_or(0.0),
            _ => 0.0,
        };
        Price {
            input: rate("input"),
            output: rate("output"),
        }
    });
    Model {
        name: name.to_string(),
        provider: provider.unwrap_or(Provider::Mock),
        model: text("name").unwrap_or_else(|| name.to_string()),
        key_env: api_key_variable(provider, base_url.as_deref(), text("api_key_env")),
        base_url,
        temperature: match value("temperature") {
            Some(SettingValue::Expr(e)) => number(e),
            _ => None,
        },
        max_tokens: whole("max_tokens"),
        context_window: whole("context_window"),
        rpm: whole("rpm"),
        concurrency: whole("concurrency"),
        timeout_ms: duration("timeout"),
        idle_timeout_ms: duration("idle_timeout"),
        breaker,
        price,
        stream: flag("stream"),
        structured_output: flag("structured_output"),
    }
}

/// A retry policy's settings, resolved (`tries_once`: the built-in
/// attempts of commands and questions). Called on checked settings.
pub fn retry_of(settings: &[Setting], tries_once: bool) -> RetryPolicy {
    let built_in = RetryPolicy::built_in(tries_once);
    let attempts = find(settings, "attempts")
        .and_then(|s| int_value(&s.value))
        .and_then(|n| u64::try_from(n).ok())
        .filter(|n| (1..=defaults::MAX_ATTEMPTS).contains(n))
        .unwrap_or(built_in.attempts);
    let jitter = find(settings, "jitter")
        .and_then(|s| word(&s.value))
        .and_then(Jitter::parse)
        .unwrap_or(built_in.jitter);
    let on = match find(settings, "on").map(|s| &s.value) {
        Some(SettingValue::Expr(Expr {
            kind: ExprKind::List(items),
            ..
        })) => items
            .iter()
            .filter_map(|i| match &i.kind {
                ExprKind::Name(n) => ErrorClass::parse(&n.name),
                _ => None,
            })
            .collect(),
        _ => built_in.on.clone(),
    };
    RetryPolicy {
        policy: None,
        attempts,
        backoff: find(settings, "backoff").map_or_else(Backoff::default, |s| backoff_of(&s.value)),
        jitter,
        on,
    }
}

fn backoff_of(value: &SettingValue) -> Backoff {
    let SettingValue::Expr(Expr {
        kind: ExprKind::Call { function, args },
        ..
    }) = value
    else {
        return Backoff::default();
    };
    match function.name.as_str() {
        "constant" => Backoff::Constant {
            delay_ms: backoff_arg(args, "delay", 0)
                .and_then(duration_ms)
                .unwrap_or(0),
        },
        _ => Backoff::Exponential {
            base_ms: backoff_arg(args, "base", 0)
                .and_then(duration_ms)
                .unwrap_or(defaults::BACKOFF_BASE_MS),
            factor: backoff_arg(args, "factor", 1)
                .and_then(number)
                .unwrap_or(defaults::BACKOFF_FACTOR),
            max_ms: backoff_arg(args, "max", 2)
                .and_then(duration_ms)
                .unwrap_or(defaults::BACKOFF_MAX_MS),
        },
    }
}

/// A backoff's argument, by name or by position.
pub(crate) fn backoff_arg<'e>(
    args: &'e [crate::syntax::ast::Arg],
    name: &str,
    position: usize,
) -> Option<&'e Expr> {
    args.iter()
        .enumerate()
        .find(|(i, a)| a.name.as_ref().map_or(*i == position, |n| n.name == name))
        .map(|(_, a)| &a.value)
}
