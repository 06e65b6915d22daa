//! Model, retry and agent settings (E0207, E0401 for retry bounds, W0507
//! for API keys with `check --env`).

use super::decls::DeclKind;
use super::problems::{ConfigProblem, Expected, NameProblem};
use super::settings::{
    backoff_arg, duration_ms, find, int_value, model_of, number, value_span, word,
};
use super::Checker;
use crate::lang::model::Provider;
use crate::lang::policy::{defaults, ErrorClass, Jitter};
use crate::source::{FileId, Span};
use crate::syntax::ast::{Expr, ExprKind, Setting, SettingValue};

const PROVIDERS: &[&str] = Provider::NAMES;

const MODEL_KEYS: &[&str] = &[
    "provider",
    "name",
    "max_tokens",
    "temperature",
    "base_url",
    "api_key_env",
    "context_window",
    "rpm",
    "concurrency",
    "timeout",
    "idle_timeout",
    "breaker",
    "price",
    "structured_output",
    "stream",
];
const RETRY_KEYS: &[&str] = &["attempts", "backoff", "jitter", "on"];
const AGENT_KEYS: &[&str] = &["persona", "instruction", "format", "constraint", "model"];
/// The most tries a retry policy may make.
pub const MAX_ATTEMPTS: i64 = defaults::MAX_ATTEMPTS as i64;

impl<'a> Checker<'a> {
    /// Checks every model, retry policy and agent, and resolves each model
    /// to its settings.
    pub(super) fn check_config(&mut self) {
        let decls: Vec<(usize, FileId, DeclKind<'a>)> = self
            .decls
            .all
            .iter()
            .enumerate()
            .map(|(id, d)| (id, d.file, d.kind))
            .collect();
        for (id, file, kind) in decls {
            match kind {
                DeclKind::Model(m) => {
                    self.check_model(&m.name.name, &m.settings);
                    self.model_of.insert(id, self.found.models.len());
                    self.found.models.push(model_of(&m.name.name, &m.settings));
                }
                DeclKind::Retry(r) => self.check_retry(&r.settings, r.name.span),
                DeclKind::Agent(a) => self.check_agent(file, &a.settings),
                _ => {}
            }
        }
    }

    fn check_model(&mut self, name: &str, settings: &[Setting]) {
        self.unknown_keys("model option", settings, MODEL_KEYS);
        match find(settings, "provider") {
            None => self.report(ConfigProblem::NoProvider {
                at: settings.first().map_or(Span::default(), |s| s.span),
                model: name.to_string(),
            }),
            Some(setting) => {
                let value = word(&setting.value);
                if !value.is_some_and(|v| PROVIDERS.contains(&v)) {
                    self.report(ConfigProblem::UnknownProvider {
                        at: value_span(setting),
                        written: value.map(String::from),
                    });
                }
            }
        }
        self.number_in("temperature", settings, 0.0, 2.0);
        self.number_in("max_tokens", settings, 1.0, 1_000_000.0);
        self.number_in("context_window", settings, 1.0, 100_000_000.0);
        self.number_in("rpm", settings, 1.0, 1_000_000.0);
        self.number_in("concurrency", settings, 1.0, 100_000.0);
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
                    self.report(ConfigProblem::WrongValue {
                        at: value_span(s),
                        key: key.to_string(),
                        expected: Expected::Bool,
                    });
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
                    self.report(ConfigProblem::WrongValue {
                        at: value_span(s),
                        key: key.to_string(),
                        expected: Expected::String,
                    });
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

    /// Checks a retry policy (named or inline); [`retry_of`] reads it.
    pub(super) fn check_retry(&mut self, settings: &[Setting], at: Span) {
        self.unknown_keys("retry option", settings, RETRY_KEYS);
        match find(settings, "attempts") {
            None => {
                self.report(ConfigProblem::NoAttempts { at });
            }
            Some(setting) => match int_value(&setting.value) {
                Some(n) if (1..=MAX_ATTEMPTS).contains(&n) => {}
                Some(n) => {
                    self.report(ConfigProblem::AttemptsOutOfRange {
                        at: value_span(setting),
                        attempts: n,
                        most: MAX_ATTEMPTS,
                    });
                }
                None => {
                    self.report(ConfigProblem::WrongValue {
                        at: value_span(setting),
                        key: "attempts".into(),
                        expected: Expected::WholeNumber,
                    });
                }
            },
        }
        if let Some(s) = find(settings, "jitter") {
            self.one_word_of(s, "jitter", Jitter::NAMES);
        }
        if let Some(s) = find(settings, "on") {
            self.error_classes(s);
        }
        if let Some(s) = find(settings, "backoff") {
            self.backoff(s);
        }
    }

    /// `exponential(base = 1s, factor = 2, max = 60s)` or `constant(2s)`.
    fn backoff(&mut self, setting: &Setting) {
        let SettingValue::Expr(Expr {
            kind: ExprKind::Call { function, args },
            ..
        }) = &setting.value
        else {
            self.report(ConfigProblem::NotABackoff {
                at: value_span(setting),
            });
            return;
        };
        match function.name.as_str() {
            "constant" => {}
            "exponential" => {
                let factor = backoff_arg(args, "factor", 1).and_then(number);
                if factor.is_some_and(|f| f < 1.0) {
                    self.report(ConfigProblem::ShrinkingBackoff { at: function.span });
                }
            }
            other => {
                self.report(ConfigProblem::UnknownBackoff {
                    at: function.span,
                    name: other.to_string(),
                });
            }
        }
    }

    fn error_classes(&mut self, setting: &Setting) {
        let SettingValue::Expr(Expr {
            kind: ExprKind::List(items),
            ..
        }) = &setting.value
        else {
            self.report(ConfigProblem::ErrorClassesNotAList {
                at: value_span(setting),
            });
            return;
        };
        for item in items {
            let name = match &item.kind {
                ExprKind::Name(n) => Some(n.name.as_str()),
                _ => None,
            };
            if name.is_none_or(|n| ErrorClass::parse(n).is_none()) {
                self.report(ConfigProblem::UnknownErrorClass {
                    at: item.span,
                    written: name.map(String::from),
                });
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
        noun: &'static str,
    ) {
        let matches_noun = |k: &DeclKind<'_>| k.noun() == noun;
        match self.decls.lookup(file, &name.name) {
            Some(decl) if matches_noun(&decl.kind) => {}
            Some(decl) => {
                self.report(NameProblem::NotA {
                    at: name.span,
                    name: name.name.clone(),
                    noun,
                    found: decl.kind.noun(),
                    declared: decl.name.span,
                });
            }
            None => {
                let candidates = self.decls.names(file, matches_noun);
                self.report(NameProblem::Unknown {
                    at: name.span,
                    noun,
                    name: name.name.clone(),
                    candidates: candidates.into_iter().map(String::from).collect(),
                });
            }
        }
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
            let Some(variable) = model_of(&m.name.name, &m.settings).key_env else {
                continue;
            };
            if !is_set(&variable) {
                missing.push(ConfigProblem::KeyNotSet {
                    at: m.name.span,
                    model: m.name.name.clone(),
                    variable,
                });
            }
        }
        self.problems.extend(missing.into_iter().map(Into::into));
    }

    fn unknown_keys(
        &mut self,
        what: &'static str,
        settings: &[Setting],
        known: &'static [&'static str],
    ) {
        for setting in settings {
            let key = setting.key.name.as_str();
            if known.contains(&key) {
                continue;
            }
            self.report(ConfigProblem::UnknownKey {
                at: setting.key.span,
                what,
                key: key.to_string(),
                known,
            });
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
            Some(value) => self.report(ConfigProblem::OutOfRange {
                at: value_span(setting),
                key: key.to_string(),
                value,
                low,
                high,
            }),
            None => self.report(ConfigProblem::WrongValue {
                at: value_span(setting),
                key: key.to_string(),
                expected: Expected::Number,
            }),
        }
    }

    fn duration_setting(&mut self, settings: &[Setting], key: &str) {
        let Some(setting) = find(settings, key) else {
            return;
        };
        let ok = matches!(&setting.value, SettingValue::Expr(e) if duration_ms(e).is_some());
        if !ok {
            self.report(ConfigProblem::WrongValue {
                at: value_span(setting),
                key: key.to_string(),
                expected: Expected::Duration,
            });
        }
    }

    fn one_word_of(&mut self, setting: &Setting, key: &str, words: &'static [&'static str]) {
        let value = word(&setting.value);
        if value.is_some_and(|v| words.contains(&v)) {
            return;
        }
        self.report(ConfigProblem::InvalidWord {
            at: value_span(setting),
            key: key.to_string(),
            written: value.map(String::from),
            words,
        });
    }
}
