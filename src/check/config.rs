//! Model, retry and agent settings (E0207, E0401 for retry bounds, W0507
//! for API keys with `check --env`).

use super::decls::DeclKind;
use super::Checker;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::suggest;
use crate::syntax::ast::{Expr, ExprKind, Setting, SettingValue};

pub const PROVIDERS: &[&str] = &["openai", "anthropic", "gemini", "ollama", "mock"];

const MODEL_KEYS: &[&str] = &[
    "provider",
    "name",
    "max_tokens",
    "temperature",
    "base_url",
    "api_key_env",
    "context_window",
    "rpm",
    "timeout",
    "idle_timeout",
    "breaker",
    "price",
    "structured_output",
    "stream",
];
const RETRY_KEYS: &[&str] = &["attempts", "backoff", "jitter", "on"];
const AGENT_KEYS: &[&str] = &["persona", "instruction", "format", "constraint", "model"];
const ERROR_CLASSES: &[&str] = &["rate_limit", "timeout", "server_error", "invalid_output"];

/// The most tries a retry policy may make.
pub const MAX_ATTEMPTS: i64 = 20;

/// What a retry policy costs in the worst case, for deadlines (W0505).
#[derive(Clone, Debug, Default)]
pub struct RetryBudget {
    pub attempts: u64,
    /// Delay before each try after the first, in milliseconds.
    pub delays_ms: Vec<u64>,
}

/// The parts of a model the step checks need.
#[derive(Clone, Debug, Default)]
pub struct ModelInfo {
    pub context_window: Option<u64>,
}

impl<'a> Checker<'a> {
    pub(super) fn check_config(&mut self) {
        let decls: Vec<(FileId, DeclKind<'a>)> =
            self.decls.all.iter().map(|d| (d.file, d.kind)).collect();
        for (file, kind) in decls {
            match kind {
                DeclKind::Model(m) => self.check_model(&m.name.name, &m.settings),
                DeclKind::Retry(r) => {
                    self.check_retry(&r.settings, r.name.span);
                }
                DeclKind::Agent(a) => self.check_agent(file, &a.settings),
                _ => {}
            }
        }
    }

    fn check_model(&mut self, name: &str, settings: &[Setting]) {
        self.unknown_keys("model option", settings, MODEL_KEYS);
        match find(settings, "provider") {
            None => self.report(
                Diagnostic::new(Code::E0207, format!("model `{name}` has no `provider`"))
                    .primary(
                        settings.first().map_or(Span::default(), |s| s.span),
                        "add `provider = …` to this model",
                    )
                    .help(format!("providers: {}", suggest::one_of(PROVIDERS))),
            ),
            Some(setting) => {
                let value = word(&setting.value);
                if !value.is_some_and(|v| PROVIDERS.contains(&v)) {
                    let mut d = Diagnostic::new(
                        Code::E0207,
                        format!("unknown provider `{}`", value.unwrap_or("?")),
                    )
                    .primary(value_span(setting), "not a provider spesc knows")
                    .note(format!("providers: {}", suggest::one_of(PROVIDERS)));
                    if let Some(help) =
                        value.and_then(|v| suggest::did_you_mean(v, PROVIDERS.iter().copied()))
                    {
                        d = d.help(help);
                    }
                    self.report(d);
                }
            }
        }
        self.number_in("temperature", settings, 0.0, 2.0);
        self.number_in("max_tokens", settings, 1.0, 1_000_000.0);
        self.number_in("context_window", settings, 1.0, 100_000_000.0);
        self.number_in("rpm", settings, 1.0, 1_000_000.0);
        for key in ["timeout", "idle_timeout"] {
            self.duration_setting(settings, key);
        }
        for key in ["stream", "structured_output"] {
            if let Some(s) = find(settings, key) {
                if !matches!(
                    &s.value,
                    SettingValue::Expr(Expr {
                        kind: ExprKind::Bool(_),
                        ..
                    })
                ) {
                    self.report(
                        Diagnostic::new(Code::E0207, format!("`{key}` must be `true` or `false`"))
                            .primary(value_span(s), "expected `true` or `false`"),
                    );
                }
            }
        }
        for key in ["name", "base_url", "api_key_env"] {
            if let Some(s) = find(settings, key) {
                if !matches!(
                    &s.value,
                    SettingValue::Expr(Expr {
                        kind: ExprKind::String(_),
                        ..
                    })
                ) {
                    self.report(
                        Diagnostic::new(Code::E0207, format!("`{key}` must be a string"))
                            .primary(value_span(s), "expected a string"),
                    );
                }
            }
        }
        if let Some(SettingValue::Block(inner, _)) = find(settings, "breaker").map(|s| &s.value) {
            self.unknown_keys("breaker option", inner, &["failures", "cooldown"]);
            self.number_in("failures", inner, 1.0, 1000.0);
            self.duration_setting(inner, "cooldown");
        }
        if let Some(SettingValue::Block(inner, _)) = find(settings, "price").map(|s| &s.value) {
            self.unknown_keys("price option", inner, &["input", "output"]);
            self.number_in("input", inner, 0.0, f64::MAX);
            self.number_in("output", inner, 0.0, f64::MAX);
        }
    }

    /// Checks a retry policy (named or inline) and returns its budget.
    pub(super) fn check_retry(&mut self, settings: &[Setting], at: Span) -> Option<RetryBudget> {
        self.unknown_keys("retry option", settings, RETRY_KEYS);
        let attempts = match find(settings, "attempts") {
            None => {
                self.report(
                    Diagnostic::new(Code::E0401, "retry policy without `attempts`")
                        .primary(at, "this policy has no bound")
                        .note("`attempts` counts every try, the first included")
                        .help(format!("add `attempts = 3` (at most {MAX_ATTEMPTS})")),
                );
                None
            }
            Some(setting) => match int_value(&setting.value) {
                Some(n) if (1..=MAX_ATTEMPTS).contains(&n) => Some(n as u64),
                Some(n) => {
                    self.report(
                        Diagnostic::new(Code::E0401, format!("retry bound {n} is out of range"))
                            .primary(value_span(setting), format!("must be 1 to {MAX_ATTEMPTS}"))
                            .note("every run must end; retries are bounded so that it does"),
                    );
                    None
                }
                None => {
                    self.report(
                        Diagnostic::new(Code::E0207, "`attempts` must be a whole number")
                            .primary(value_span(setting), "expected an integer like `3`"),
                    );
                    None
                }
            },
        };
        if let Some(s) = find(settings, "jitter") {
            self.one_word_of(s, "jitter", &["none", "full", "equal"]);
        }
        if let Some(s) = find(settings, "on") {
            self.error_classes(s);
        }
        let delays = find(settings, "backoff").and_then(|s| self.backoff(s, attempts.unwrap_or(1)));
        attempts.map(|attempts| RetryBudget {
            attempts,
            delays_ms: delays.unwrap_or_default(),
        })
    }

    /// `exponential(base = 1s, factor = 2, max = 60s)` or `constant(2s)`:
    /// the delays before tries 2..=attempts.
    fn backoff(&mut self, setting: &Setting, attempts: u64) -> Option<Vec<u64>> {
        let SettingValue::Expr(Expr {
            kind: ExprKind::Call { function, args },
            ..
        }) = &setting.value
        else {
            self.report(
                Diagnostic::new(
                    Code::E0207,
                    "`backoff` must be `exponential(…)` or `constant(…)`",
                )
                .primary(value_span(setting), "not a backoff")
                .help("write `backoff = exponential(base = 1s, factor = 2, max = 60s)`"),
            );
            return None;
        };
        let arg = |name: &str, position: usize| {
            args.iter()
                .enumerate()
                .find(|(i, a)| a.name.as_ref().map_or(*i == position, |n| n.name == name))
                .map(|(_, a)| &a.value)
        };
        let retries = attempts.saturating_sub(1);
        match function.name.as_str() {
            "constant" => {
                let delay = arg("delay", 0).and_then(duration_ms).unwrap_or(0);
                Some(vec![delay; retries as usize])
            }
            "exponential" => {
                let base = arg("base", 0).and_then(duration_ms).unwrap_or(1000);
                let factor = arg("factor", 1).and_then(number).unwrap_or(2.0);
                let max = arg("max", 2).and_then(duration_ms).unwrap_or(u64::MAX);
                if factor < 1.0 {
                    self.report(
                        Diagnostic::new(Code::E0207, "backoff `factor` below 1")
                            .primary(function.span, "delays would shrink")
                            .help("use a factor of 1 or more, or `constant(…)`"),
                    );
                }
                Some(
                    (0..retries)
                        .map(|n| ((base as f64) * factor.powi(n as i32)).min(max as f64) as u64)
                        .collect(),
                )
            }
            other => {
                let mut d = Diagnostic::new(Code::E0207, format!("unknown backoff `{other}`"))
                    .primary(function.span, "expected `exponential` or `constant`");
                if let Some(help) =
                    suggest::did_you_mean(other, ["exponential", "constant"].iter().copied())
                {
                    d = d.help(help);
                }
                self.report(d);
                None
            }
        }
    }

    fn error_classes(&mut self, setting: &Setting) {
        let SettingValue::Expr(Expr {
            kind: ExprKind::List(items),
            ..
        }) = &setting.value
        else {
            self.report(
                Diagnostic::new(Code::E0207, "`on` must be a list of error classes")
                    .primary(value_span(setting), "expected a list")
                    .help(format!("write `on = [{}]`", ERROR_CLASSES.join(", "))),
            );
            return;
        };
        for item in items {
            let name = match &item.kind {
                ExprKind::Name(n) => Some(n.name.as_str()),
                _ => None,
            };
            if !name.is_some_and(|n| ERROR_CLASSES.contains(&n)) {
                let mut d = Diagnostic::new(Code::E0207, "unknown error class")
                    .primary(item.span, "not an error class")
                    .note(format!("error classes: {}", suggest::one_of(ERROR_CLASSES)));
                if let Some(help) =
                    name.and_then(|n| suggest::did_you_mean(n, ERROR_CLASSES.iter().copied()))
                {
                    d = d.help(help);
                }
                self.report(d);
            }
        }
    }

    fn check_agent(&mut self, file: FileId, settings: &[Setting]) {
        self.unknown_keys("agent option", settings, AGENT_KEYS);
        for setting in settings {
            let key = setting.key.name.as_str();
            let names: Vec<&crate::syntax::ast::Ident> = match &setting.value {
                SettingValue::Chain(chain) => chain.iter().collect(),
                SettingValue::Expr(Expr {
                    kind: ExprKind::Name(n),
                    ..
                }) => vec![n],
                _ => Vec::new(),
            };
            let wants_model = key == "model";
            if !AGENT_KEYS.contains(&key) {
                continue;
            }
            for name in names {
                self.expect_decl(file, name, if wants_model { "model" } else { "component" });
            }
        }
    }

    /// A name that must be a declaration of one kind: E0101 when unknown,
    /// E0202 when it is something else.
    pub(super) fn expect_decl(
        &mut self,
        file: FileId,
        name: &crate::syntax::ast::Ident,
        noun: &str,
    ) {
        let matches_noun = |k: &DeclKind<'_>| k.noun() == noun;
        match self.decls.lookup(file, &name.name) {
            Some(decl) if matches_noun(&decl.kind) => {}
            Some(decl) => {
                let found = decl.kind.noun();
                let at = decl.name.span;
                self.report(
                    Diagnostic::new(
                        Code::E0202,
                        format!("expected a {noun}, found {found} `{}`", name.name),
                    )
                    .primary(name.span, format!("expected a {noun}"))
                    .secondary(at, format!("`{}` is a {found}", name.name)),
                );
            }
            None => {
                let candidates = self.decls.names(file, matches_noun);
                let mut d = Diagnostic::new(Code::E0101, format!("unknown {noun} `{}`", name.name))
                    .primary(name.span, format!("no {noun} has this name"));
                if let Some(help) = suggest::did_you_mean(&name.name, candidates) {
                    d = d.help(help);
                }
                self.report(d);
            }
        }
    }

    /// The parts of model `name` the step checks need.
    pub(super) fn model_info(&self, file: FileId, name: &str) -> Option<ModelInfo> {
        let decl = self.decls.all.get(self.decls.id_of(file, name)?)?;
        let DeclKind::Model(m) = &decl.kind else {
            return None;
        };
        Some(ModelInfo {
            context_window: find(&m.settings, "context_window")
                .and_then(|s| int_value(&s.value))
                .and_then(|n| u64::try_from(n).ok()),
        })
    }

    /// W0507 (with `check --env`): models used whose API key variable is
    /// not set.
    pub(super) fn check_api_keys(&mut self) {
        let options = self.options;
        let Some(is_set) = &options.env else { return };
        let mut missing = Vec::new();
        for decl in &self.decls.all {
            let DeclKind::Model(m) = &decl.kind else {
                continue;
            };
            if !decl.used.get() {
                continue;
            }
            let provider = find(&m.settings, "provider").and_then(|s| word(&s.value));
            let base_url = find(&m.settings, "base_url").and_then(|s| string_value(&s.value));
            let explicit = find(&m.settings, "api_key_env").and_then(|s| string_value(&s.value));
            let Some(variable) = api_key_variable(provider, base_url.as_deref(), explicit) else {
                continue;
            };
            if !is_set(&variable) {
                missing.push(
                    Diagnostic::new(
                        Code::W0507,
                        format!("`{variable}` is not set for model `{}`", m.name.name),
                    )
                    .primary(m.name.span, format!("needs `{variable}` to run"))
                    .note("`spesc run` refuses to start until it is set")
                    .help(format!(
                        "export {variable}=… (keys come only from the environment)"
                    )),
                );
            }
        }
        self.diagnostics.extend(missing);
    }

    fn unknown_keys(&mut self, what: &str, settings: &[Setting], known: &[&str]) {
        for setting in settings {
            let key = setting.key.name.as_str();
            if known.contains(&key) {
                continue;
            }
            let mut d = Diagnostic::new(Code::E0207, format!("unknown {what} `{key}`"))
                .primary(setting.key.span, "not an option here")
                .note(format!("options: {}", suggest::one_of(known)));
            if let Some(help) = suggest::did_you_mean(key, known.iter().copied()) {
                d = d.help(help);
            }
            self.report(d);
        }
    }

    fn number_in(&mut self, key: &str, settings: &[Setting], low: f64, high: f64) {
        let Some(setting) = find(settings, key) else {
            return;
        };
        let value = match &setting.value {
            SettingValue::Expr(e) => number(e),
            _ => None,
        };
        match value {
            Some(v) if (low..=high).contains(&v) => {}
            Some(v) => {
                let range = if high == f64::MAX {
                    format!("at least {low}")
                } else {
                    format!("between {low} and {high}")
                };
                self.report(
                    Diagnostic::new(Code::E0207, format!("`{key}` is out of range"))
                        .primary(value_span(setting), format!("{v} is not {range}")),
                );
            }
            None => self.report(
                Diagnostic::new(Code::E0207, format!("`{key}` must be a number"))
                    .primary(value_span(setting), "expected a number"),
            ),
        }
    }

    fn duration_setting(&mut self, settings: &[Setting], key: &str) {
        let Some(setting) = find(settings, key) else {
            return;
        };
        let ok = matches!(&setting.value, SettingValue::Expr(e) if duration_ms(e).is_some());
        if !ok {
            self.report(
                Diagnostic::new(Code::E0207, format!("`{key}` must be a duration"))
                    .primary(value_span(setting), "expected a duration like `30s`"),
            );
        }
    }

    fn one_word_of(&mut self, setting: &Setting, key: &str, words: &[&str]) {
        let value = word(&setting.value);
        if value.is_some_and(|v| words.contains(&v)) {
            return;
        }
        let mut d = Diagnostic::new(Code::E0207, format!("invalid `{key}`")).primary(
            value_span(setting),
            format!("expected {}", suggest::one_of(words)),
        );
        if let Some(help) = value.and_then(|v| suggest::did_you_mean(v, words.iter().copied())) {
            d = d.help(help);
        }
        self.report(d);
    }
}

/// The variable holding a model's API key, if it needs one: `api_key_env`,
/// else the provider's convention; none for Ollama, the mock, or a server
/// on this machine.
pub fn api_key_variable(
    provider: Option<&str>,
    base_url: Option<&str>,
    explicit: Option<String>,
) -> Option<String> {
    if explicit.is_some() {
        return explicit;
    }
    let local = base_url.is_some_and(|u| u.contains("://127.0.0.1") || u.contains("://localhost"));
    if local {
        return None;
    }
    match provider? {
        "openai" => Some("OPENAI_API_KEY".to_string()),
        "anthropic" => Some("ANTHROPIC_API_KEY".to_string()),
        "gemini" => Some("GEMINI_API_KEY".to_string()),
        _ => None,
    }
}

pub fn find<'s>(settings: &'s [Setting], key: &str) -> Option<&'s Setting> {
    settings.iter().find(|s| s.key.name == key)
}

fn value_span(setting: &Setting) -> Span {
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
fn word(value: &SettingValue) -> Option<&str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_variables_follow_the_provider_unless_local_or_explicit() {
        assert_eq!(
            api_key_variable(Some("openai"), None, None).as_deref(),
            Some("OPENAI_API_KEY")
        );
        assert_eq!(
            api_key_variable(Some("openai"), Some("http://127.0.0.1:8089/v1"), None),
            None
        );
        assert_eq!(api_key_variable(Some("ollama"), None, None), None);
        assert_eq!(
            api_key_variable(Some("anthropic"), None, Some("TEAM_KEY".into())).as_deref(),
            Some("TEAM_KEY")
        );
    }
}
