//! Every provider against a real HTTP server on 127.0.0.1 started by the
//! test: the exact request (checked against the provider's API spec), its
//! documented replies whole and streamed, usage, every error class, and
//! record/replay. No test reaches the internet or needs a real key.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::sync::{Arc, Once, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use spesc::check::Loader;
use spesc::journal::record::{Outcome, RunRecord, Tokens};
use spesc::providers::recording::{Recorder, Replayer};
use spesc::runtime::events::{Event, Events, Observer};
use spesc::runtime::{run, RunOptions};
use spesc::source::SourceMap;
use support::spec::Spec;
use support::{Answer, Seen, Server};

/// The key variable every test model reads, and its value.
const KEY_VARIABLE: &str = "SPESC_PROVIDER_TEST_KEY";
const KEY: &str = "sk-spesc-test-0123456789abcdef";

fn set_key() {
    static SET: Once = Once::new();
    // Every test sets the same value, once, before any run reads it.
    SET.call_once(|| std::env::set_var(KEY_VARIABLE, KEY));
}

/// One provider: how its model is declared and how its server talks.
struct Api {
    provider: &'static str,
    model: &'static str,
    /// The path under the server where the API lives (`base_url`).
    root: &'static str,
    /// The header that carries the key, and its expected value.
    key_header: &'static str,
    key_value: fn() -> String,
    /// The spec file and request schema its bodies must satisfy.
    spec: Option<(&'static str, &'static str)>,
    /// A whole reply with this text, in the documented shape.
    reply: fn(&str) -> String,
    /// The same reply streamed, in the documented shape.
    stream: fn(&str) -> Answer,
    /// An error body with this message.
    error: fn(u16, &str) -> String,
}

const OPENAI: Api = Api {
    provider: "openai",
    model: "gpt-4o-mini",
    root: "/v1",
    key_header: "authorization",
    key_value: || format!("Bearer {KEY}"),
    spec: Some(("openai-openapi.json", "CreateChatCompletionRequest")),
    reply: |text| {
        // The "Default" example of the OpenAI spec, with our text.
        json!({"id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion",
            "created": 1741569952, "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text,
                "refusal": null, "annotations": []}, "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                    "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
            "service_tier": "default"})
        .to_string()
    },
    stream: |text| {
        // The spec's "Streaming" example, with the usage chunk that
        // `stream_options.include_usage` adds and the closing `[DONE]`.
        let chunk = |delta: Value, finish: Value| {
            format!(
                "data: {}\n\n",
                json!({"id": "chatcmpl-123", "object": "chat.completion.chunk",
                "created": 1694268190, "model": "gpt-4o-mini", "system_fingerprint": "fp_44709d6fcb",
                "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
            )
        };
        let mut events = vec![chunk(
            json!({"role": "assistant", "content": ""}),
            Value::Null,
        )];
        events.extend(pieces(text).map(|p| chunk(json!({"content": p}), Value::Null)));
        events.push(chunk(json!({}), json!("stop")));
        events.push(format!(
            "data: {}\n\n",
            json!({"id": "chatcmpl-123", "object": "chat.completion.chunk",
            "created": 1694268190, "model": "gpt-4o-mini", "choices": [],
            "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29}})
        ));
        events.push("data: [DONE]\n\n".into());
        Answer::stream("text/event-stream", events)
    },
    error: |status, message| {
        let kind = if status == 429 {
            "rate_limit_exceeded"
        } else {
            "invalid_request_error"
        };
        json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
            .to_string()
    },
};

const ANTHROPIC: Api = Api {
    provider: "anthropic",
    model: "claude-sonnet-4-20250514",
    root: "",
    key_header: "x-api-key",
    key_value: || KEY.to_string(),
    spec: Some(("anthropic-hosted.json", "CreateMessageParams")),
    reply: |text| {
        json!({"id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-20250514", "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 19, "output_tokens": 10}})
        .to_string()
    },
    stream: |text| {
        // The documented event flow of a streamed message.
        let event = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
        let mut events = vec![
            event(
                "message_start",
                json!({"type": "message_start", "message": {
                "id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant",
                "content": [], "model": "claude-sonnet-4-20250514", "stop_reason": null,
                "stop_sequence": null, "usage": {"input_tokens": 19, "output_tokens": 1}}}),
            ),
            event(
                "content_block_start",
                json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}),
            ),
            event("ping", json!({"type": "ping"})),
        ];
        events.extend(pieces(text).map(|p| {
            event(
                "content_block_delta",
                json!({
            "type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}),
            )
        }));
        events.push(event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ));
        events.push(event("message_delta", json!({"type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 10}})));
        events.push(event("message_stop", json!({"type": "message_stop"})));
        Answer::stream("text/event-stream", events)
    },
    error: |status, message| {
        let kind = match status {
            401 => "authentication_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            529 => "overloaded_error",
            500.. => "api_error",
            _ => "invalid_request_error",
        };
        json!({"type": "error", "error": {"type": kind, "message": message}}).to_string()
    },
};

const GEMINI: Api = Api {
    provider: "gemini",
    model: "gemini-2.0-flash",
    root: "",
    key_header: "x-goog-api-key",
    key_value: || KEY.to_string(),
    spec: Some(("gemini-native.json", "GenerateContentRequest")),
    reply: |text| gemini_chunk(Some(text), true).to_string(),
    stream: |text| {
        let mut events: Vec<String> = pieces(text)
            .map(|p| format!("data: {}\r\n\r\n", gemini_chunk(Some(&p), false)))
            .collect();
        events.push(format!("data: {}\r\n\r\n", gemini_chunk(None, true)));
        Answer::stream("text/event-stream", events)
    },
    error: |status, message| {
        let kind = match status {
            401 => "UNAUTHENTICATED",
            404 => "NOT_FOUND",
            429 => "RESOURCE_EXHAUSTED",
            500.. => "INTERNAL",
            _ => "INVALID_ARGUMENT",
        };
        json!({"error": {"code": status, "message": message, "status": kind}}).to_string()
    },
};

/// A `GenerateContentResponse` as Gemini documents it.
fn gemini_chunk(text: Option<&str>, last: bool) -> Value {
    let mut candidate =
        json!({"content": {"parts": [{"text": text.unwrap_or("")}], "role": "model"}, "index": 0});
    if last {
        candidate["finishReason"] = json!("STOP");
    }
    json!({"candidates": [candidate],
        "usageMetadata": {"promptTokenCount": 19, "candidatesTokenCount": 10, "totalTokenCount": 29},
        "modelVersion": "gemini-2.0-flash"})
}

const OLLAMA: Api = Api {
    provider: "ollama",
    model: "llama3.2",
    root: "",
    key_header: "authorization",
    key_value: || format!("Bearer {KEY}"),
    spec: None,
    reply: |text| ollama_line(text, true).to_string(),
    stream: |text| {
        let mut events: Vec<String> = pieces(text)
            .map(|p| format!("{}\n", ollama_line(&p, false)))
            .collect();
        events.push(format!("{}\n", ollama_line("", true)));
        Answer::stream("application/x-ndjson", events)
    },
    error: |_, message| json!({"error": message}).to_string(),
};

/// A line of Ollama's `/api/chat` as its API documentation shows it.
fn ollama_line(text: &str, done: bool) -> Value {
    let mut line = json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00",
        "message": {"role": "assistant", "content": text}, "done": done});
    if done {
        for (key, value) in [
            ("done_reason", json!("stop")),
            ("total_duration", json!(4883583458u64)),
            ("load_duration", json!(1334875)),
            ("prompt_eval_count", json!(19)),
            ("prompt_eval_duration", json!(342546000)),
            ("eval_count", json!(10)),
            ("eval_duration", json!(4535599000u64)),
        ] {
            line[key] = value;
        }
    }
    line
}

const APIS: [&Api; 4] = [&OPENAI, &ANTHROPIC, &GEMINI, &OLLAMA];

/// `text` in pieces of up to 7 characters, as tokens arrive.
fn pieces(text: &str) -> impl Iterator<Item = String> + '_ {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len().div_ceil(7)).map(move |i| {
        chars[i * 7..((i + 1) * 7).min(chars.len())]
            .iter()
            .collect()
    })
}

/// A model of `api` served by `server`, with `options` added.
fn model(api: &Api, server: &Server, options: &str) -> String {
    format!(
        "model m {{ provider = {}  name = \"{}\"  base_url = \"{}{}\"  api_key_env = \"{KEY_VARIABLE}\"  {options} }}",
        api.provider, api.model, server.url, api.root
    )
}

const TYPES: &str = "
enum Mood { calm, angry }
type Verdict { mood: Mood  reason: string }
type Outline { title: string  points: string[] }
retry patient { attempts = 2  backoff = constant(10ms)  on = [rate_limit, server_error, timeout, invalid_output] }
";

const VERDICT: &str = r#"{"mood": "calm", "reason": "a steady tone"}"#;

/// One step that judges a text: typed, retried, with a timeout.
fn judge(api: &Api, server: &Server, options: &str) -> String {
    format!(
        "{}{TYPES}
workflow judge(text: string) -> Verdict {{
  step verdict: Verdict {{ model = m  retry = patient  timeout = 1s  system = \"Be fair.\"  prompt = \"Judge: {{{{ text }}}}\" }}
  return verdict
}}",
        model(api, server, options)
    )
}

/// Reads imports from the repository (none here).
struct Files;

impl Loader for Files {
    fn read(&self, path: &Path) -> Result<(String, String), String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Ok((path.display().to_string(), text))
    }
}

fn run_with(text: &str, workflow: &str, inputs: Value, options: &RunOptions) -> RunRecord {
    set_key();
    let mut sources = SourceMap::new();
    let file = sources.add("t.spes", text);
    let compiled = spesc::plan::compile(
        &mut sources,
        &[(file, "t.spes".into())],
        &Files,
        &Default::default(),
    );
    let Some(plan) = compiled.plan else {
        panic!(
            "{}",
            spesc::diagnostic::render::rich(&sources, &compiled.diagnostics, false)
        )
    };
    let Value::Object(inputs) = inputs else {
        panic!("inputs are an object")
    };
    run(&plan, workflow, inputs, options)
}

fn run_judge(api: &Api, server: &Server, options: &str) -> RunRecord {
    run_with(
        &judge(api, server, options),
        "judge",
        json!({"text": "all is well"}),
        &RunOptions::default(),
    )
}

fn output(record: &RunRecord) -> &Value {
    match &record.outcome {
        Outcome::Succeeded { output } => output,
        other => panic!("the run did not succeed: {other:?}"),
    }
}

fn failure(record: &RunRecord) -> &str {
    match &record.outcome {
        Outcome::Failed { error, .. } => error,
        other => panic!("the run did not fail: {other:?}"),
    }
}

/// The spec validators, loaded once (the OpenAI spec is 3 MB).
fn spec_of(api: &Api) -> Option<&'static Spec> {
    static SPECS: OnceLock<Vec<(&'static str, Spec)>> = OnceLock::new();
    let specs = SPECS.get_or_init(|| {
        APIS.iter()
            .filter_map(|a| {
                a.spec
                    .map(|(file, name)| (a.provider, Spec::load(file, name)))
            })
            .collect()
    });
    specs
        .iter()
        .find(|(p, _)| *p == api.provider)
        .map(|(_, s)| s)
}

/// Each request carries the key in its header and nowhere else, and
/// satisfies the provider's API spec.
fn assert_well_formed(api: &Api, seen: &[Seen]) {
    for request in seen {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.headers.get(api.key_header),
            Some(&(api.key_value)())
        );
        let elsewhere = format!("{} {:?}", request.path, request.body);
        assert!(
            !elsewhere.contains(KEY),
            "the key is only in its header: {elsewhere}"
        );
        if let Some(spec) = spec_of(api) {
            let problems = spec.problems(&request.body);
            assert!(
                problems.is_empty(),
                "{} request breaks its spec: {problems:#?}\n{:#}",
                api.provider,
                request.body
            );
        }
    }
}

/// A request as the snapshot shows it: the key's header masked.
fn shown(api: &Api, request: &Seen) -> String {
    let headers: Vec<String> = request
        .headers
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "host" | "content-length" | "accept"))
        .map(|(name, value)| {
            let value = match name.as_str() {
                _ if name == api.key_header => "<key>",
                "user-agent" => "spesc/<version>",
                _ => value,
            };
            format!("{name}: {value}")
        })
        .collect();
    format!(
        "{} {}\n{}\n\n{:#}",
        request.method,
        request.path,
        headers.join("\n"),
        request.body
    )
}

#[test]
fn each_provider_sends_the_exact_request_its_spec_allows() {
    for api in APIS {
        let server = Server::start(vec![Answer::json(200, (api.reply)(VERDICT))]);
        let record = run_judge(
            api,
            &server,
            "temperature = 0.2  max_tokens = 300  structured_output = true",
        );
        assert_eq!(
            output(&record),
            &json!({"mood": "calm", "reason": "a steady tone"})
        );
        let seen = server.seen();
        assert_well_formed(api, &seen);
        insta::assert_snapshot!(format!("request_{}", api.provider), shown(api, &seen[0]));
    }
}

#[test]
fn each_provider_streams_when_asked_and_counts_the_tokens() {
    for api in APIS {
        let server = Server::start(vec![(api.stream)(VERDICT)]);
        let record = run_judge(api, &server, "stream = true  idle_timeout = 500ms");
        assert_eq!(
            output(&record),
            &json!({"mood": "calm", "reason": "a steady tone"}),
            "{}",
            api.provider
        );
        assert_eq!(
            record.totals.tokens,
            Tokens {
                prompt: 19,
                completion: 10
            },
            "{}",
            api.provider
        );
        let seen = server.seen();
        assert_well_formed(api, &seen);
        let asked = match api.provider {
            "gemini" => seen[0].path.ends_with(":streamGenerateContent?alt=sse"),
            _ => seen[0].body["stream"] == true,
        };
        assert!(asked, "{} asks for a stream: {:?}", api.provider, seen[0]);
    }
}

/// Keeps every `step_partial` event, as `--events json` writes it.
struct Partials(std::cell::RefCell<Vec<Value>>);

impl Observer for Partials {
    fn event(&self, event: &Event<'_>) {
        if let Event::StepPartial { .. } = event {
            let line = serde_json::to_value(event).expect("an event is JSON");
            self.0.borrow_mut().push(line);
        }
    }
}

#[test]
fn a_streamed_reply_is_shown_as_partial_typed_values_while_it_arrives() {
    let server = Server::start(vec![(OPENAI.stream)(VERDICT)]);
    let partials = std::rc::Rc::new(Partials(Default::default()));
    let options = RunOptions {
        events: Events::to(partials.clone()),
        ..RunOptions::default()
    };
    let text = judge(&OPENAI, &server, "stream = true  idle_timeout = 500ms");
    let record = run_with(&text, "judge", json!({"text": "all is well"}), &options);
    let done = json!({"mood": "calm", "reason": "a steady tone"});
    assert_eq!(output(&record), &done);
    let partials = partials.0.borrow();
    assert!(partials.len() >= 2, "{partials:#?}");
    for partial in partials.iter() {
        assert_eq!(partial["event"], "step_partial");
        assert_eq!(partial["id"], "verdict");
        for (name, value) in partial["value"].as_object().expect("a record so far") {
            let whole = done[name].as_str().expect("text");
            let so_far = value.as_str().expect("text");
            assert!(whole.starts_with(so_far), "{partial}");
        }
    }
    // `"calm` could still become `"calmer`: arriving until its quote.
    let fields: Vec<&Value> = partials.iter().map(|p| &p["fields"]).collect();
    assert!(
        fields.contains(&&json!({"mood": "arriving"}))
            && fields.contains(&&json!({"mood": "complete", "reason": "arriving"})),
        "the record fills in field by field: {partials:#?}"
    );
}

#[test]
fn each_provider_runs_a_multi_step_workflow_to_a_typed_result() {
    let outline = r#"Here is the outline:
```json
{"title": "Rust", "points": ["speed", "safety",]}
```"#;
    for api in APIS {
        let server = Server::start(vec![
            Answer::json(200, (api.reply)(outline)),
            Answer::json(200, (api.reply)("Rust is fast and safe.")),
            Answer::json(200, (api.reply)(VERDICT)),
        ]);
        let text = format!(
            "{}{TYPES}
workflow review(topic: string) -> Verdict {{
  step outline: Outline {{ model = m  prompt = \"Outline {{{{ topic }}}}\" }}
  step draft: string {{ model = m  prompt = \"Write about {{{{ outline.title }}}}: {{{{ join(outline.points, \", \") }}}}\" }}
  step verdict: Verdict {{ model = m  prompt = \"Judge: {{{{ draft }}}}\" }}
  return verdict
}}",
            model(api, &server, "price = { input = 1.0, output = 2.0 }")
        );
        let record = run_with(
            &text,
            "review",
            json!({"topic": "Rust"}),
            &RunOptions::default(),
        );
        assert_eq!(
            output(&record),
            &json!({"mood": "calm", "reason": "a steady tone"}),
            "{}",
            api.provider
        );
        let outline = record.steps.iter().find(|s| s.id == "outline").unwrap();
        assert_eq!(
            outline.output,
            Some(json!({"title": "Rust", "points": ["speed", "safety"]}))
        );
        assert!(
            !outline.repairs.is_empty(),
            "the fenced, trailing-comma reply was repaired"
        );
        assert_eq!(
            record.totals.tokens,
            Tokens {
                prompt: 57,
                completion: 30
            },
            "{}",
            api.provider
        );
        assert_eq!(
            record.totals.cost,
            Some(3.0 * (19.0 + 20.0) / 1e6),
            "{}",
            api.provider
        );
        let seen = server.seen();
        assert_well_formed(api, &seen);
        let draft_prompt = seen[1].body.to_string();
        assert!(
            draft_prompt.contains("Write about Rust: speed, safety"),
            "{draft_prompt}"
        );
    }
}

/// What one failure does to a one-step run with a retry of two attempts.
struct Case {
    name: &'static str,
    first: Answer,
    /// The model's options (stream, idle timeout).
    options: &'static str,
    /// The run ends well (the second answer is a good reply).
    recovers: bool,
    /// Words of the first attempt's error.
    says: &'static [&'static str],
}

fn cases(api: &Api) -> Vec<Case> {
    let error = |status: u16, message: &str| Answer::json(status, (api.error)(status, message));
    let stalled = match (api.stream)(VERDICT) {
        Answer::Stream {
            content_type,
            events,
            ..
        } => Answer::Stream {
            content_type,
            events: events[..2].to_vec(),
            pause: Duration::from_millis(5),
            stall: Duration::from_millis(800),
        },
        other => other,
    };
    vec![
        Case {
            name: "429 with Retry-After",
            first: error(429, "Rate limit reached").with_header("retry-after", "0.4"),
            options: "",
            recovers: true,
            says: &["rate limited (retry after 400 ms)"],
        },
        Case {
            name: "500",
            first: error(500, "The server had an error"),
            options: "",
            recovers: true,
            says: &["HTTP 500", "The server had an error"],
        },
        Case {
            name: "401",
            first: error(401, "Incorrect API key provided"),
            options: "",
            recovers: false,
            says: &["HTTP 401", "Incorrect API key provided"],
        },
        Case {
            name: "404",
            first: error(404, "The model does not exist"),
            options: "",
            recovers: false,
            says: &["HTTP 404", "The model does not exist"],
        },
        Case {
            name: "malformed body",
            first: Answer::json(200, "{\"choices\": [tru"),
            options: "",
            recovers: true,
            says: &["not JSON"],
        },
        Case {
            name: "connection reset",
            first: Answer::Drop,
            options: "",
            recovers: true,
            says: &["no answer: the connection failed"],
        },
        Case {
            name: "slow reply",
            first: Answer::Slow(
                Duration::from_millis(1500),
                Box::new(Answer::json(200, (api.reply)(VERDICT))),
            ),
            options: "",
            recovers: true,
            says: &["no reply within 1000 ms"],
        },
        Case {
            name: "idle stream",
            first: stalled,
            options: "stream = true  idle_timeout = 200ms",
            recovers: true,
            says: &["nothing arrived for 200 ms"],
        },
    ]
}

#[test]
fn each_error_class_is_retried_or_reported_with_the_providers_words() {
    for api in APIS {
        for case in cases(api) {
            let good = if case.options.contains("stream") {
                (api.stream)(VERDICT)
            } else {
                Answer::json(200, (api.reply)(VERDICT))
            };
            let server = Server::start(vec![case.first, good]);
            let started = Instant::now();
            let record = run_judge(api, &server, case.options);
            let step = &record.steps.iter().find(|s| s.id == "verdict").unwrap();
            let first = if case.recovers {
                step.retried.first().cloned().unwrap_or_default()
            } else {
                failure(&record).to_string()
            };
            let context = format!("{} / {}: {first}", api.provider, case.name);
            assert!(
                first.starts_with(&format!("model `m` ({})", api.provider)),
                "{context}"
            );
            for words in case.says {
                assert!(first.contains(words), "{context} should say {words:?}");
            }
            if case.recovers {
                assert_eq!(output(&record)["mood"], "calm", "{context}");
                assert_eq!(step.attempts, 2, "{context}");
            } else {
                assert_eq!(
                    step.attempts, 1,
                    "{context}: a permanent error is not retried"
                );
            }
            if case.name.starts_with("429") {
                assert!(
                    started.elapsed() >= Duration::from_millis(400),
                    "{context}: Retry-After is honoured"
                );
            }
        }
    }
}

#[test]
fn a_reply_cut_by_the_token_limit_says_so() {
    let cut = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "{\"mood\": \"ca"},
        "finish_reason": "length"}], "usage": {"prompt_tokens": 19, "completion_tokens": 10}});
    let server = Server::start(vec![Answer::json(200, cut.to_string())]);
    let record = run_judge(&OPENAI, &server, "max_tokens = 10");
    assert!(
        failure(&record).contains("cut off by `max_tokens`"),
        "{}",
        failure(&record)
    );
}

#[test]
fn a_reply_over_the_size_limit_fails_as_it_streams_in() {
    let long = (OPENAI.reply)(&"x".repeat(5000));
    let streamed = (OPENAI.stream)(&"x".repeat(5000));
    let server = Server::start(vec![Answer::json(200, long), streamed]);
    let options = RunOptions {
        reach: Arc::new(spesc::runtime::reach::Reach {
            max_response_bytes: 4096,
            ..Default::default()
        }),
        ..RunOptions::default()
    };
    for stream in ["", "stream = true"] {
        let text = judge(&OPENAI, &server, stream);
        let record = run_with(&text, "judge", json!({"text": "hi"}), &options);
        assert!(
            failure(&record).ends_with("the answer is over 4 KiB (`--max-response-size`)"),
            "{stream}: {}",
            failure(&record)
        );
        assert_eq!(record.steps[0].attempts, 1, "not retried");
    }
}

#[test]
fn a_recording_replays_without_the_network_and_refuses_an_unseen_request() {
    let dir = std::env::temp_dir().join(format!("spesc-providers-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("anthropic.jsonl");
    let server = Server::start(vec![
        Answer::json(529, (ANTHROPIC.error)(529, "Overloaded")),
        (ANTHROPIC.stream)(VERDICT),
    ]);
    let text = judge(&ANTHROPIC, &server, "stream = true");
    let recording = RunOptions {
        record: Some(Arc::new(Recorder::create(&file).unwrap())),
        ..RunOptions::default()
    };
    let recorded = run_with(&text, "judge", json!({"text": "all is well"}), &recording);
    assert_eq!(output(&recorded)["mood"], "calm");
    drop(server);

    let saved = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        saved.lines().count(),
        2,
        "the overload and the stream: {saved}"
    );
    assert!(
        !saved.contains(KEY) && !saved.contains("x-api-key"),
        "{saved}"
    );
    assert!(saved.contains("anthropic-version"));

    let replaying = || RunOptions {
        replay: Some(Arc::new(Replayer::load(&file).unwrap())),
        ..RunOptions::default()
    };
    let replayed = run_with(&text, "judge", json!({"text": "all is well"}), &replaying());
    assert_eq!(output(&replayed), output(&recorded));
    assert_eq!(
        replayed.steps[0].retried, recorded.steps[0].retried,
        "the overload is replayed too"
    );

    let unseen = run_with(
        &text,
        "judge",
        json!({"text": "something else"}),
        &replaying(),
    );
    let error = failure(&unseen);
    assert!(
        error.contains("no recorded answer") && error.contains("differs at `/messages/0/content`"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_spec_validators_refuse_what_the_apis_refuse() {
    // Without this, a validator that ignores the spec would pass every
    // request above (as Prism does on the unrewritten OpenAI spec).
    let broken = [
        (&OPENAI, json!({"model": "m"}), "messages"),
        (
            &OPENAI,
            json!({"model": "m", "messages": [{"role": "robot", "content": "hi"}]}),
            "messages",
        ),
        (
            &OPENAI,
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}),
            "temperature",
        ),
        (
            &ANTHROPIC,
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
            "max_tokens",
        ),
        (
            &GEMINI,
            json!({"systemInstruction": {"parts": [{"text": "x"}]}}),
            "contents",
        ),
    ];
    for (api, body, about) in broken {
        let problems = spec_of(api).unwrap().problems(&body).join("\n");
        assert!(
            problems.contains(about),
            "{}: {body} should break the spec at {about}: {problems}",
            api.provider
        );
    }
}

/// Runs the `spesc` binary in `dir` with the test key in its environment.
fn spesc_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_spesc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env(KEY_VARIABLE, KEY)
        .output()
        .expect("spesc runs")
}

#[test]
fn no_key_appears_in_output_records_or_recordings_whatever_fails() {
    let dir = std::env::temp_dir().join(format!("spesc-providers-leak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A server that echoes the key in its error, as some proxies do.
    let echo = |status: u16| {
        Answer::json(
            status,
            (OPENAI.error)(status, &format!("Incorrect API key provided: {KEY}")),
        )
    };
    let stages: Vec<(&str, Vec<Answer>, &str)> = vec![
        ("refused", vec![], ""),
        ("unauthorized", vec![echo(401)], ""),
        ("server errors", vec![echo(500), echo(503)], ""),
        (
            "malformed",
            vec![
                Answer::json(200, format!("{KEY} is not JSON")),
                Answer::Drop,
            ],
            "",
        ),
        (
            "timeout",
            vec![Answer::Slow(
                Duration::from_millis(1500),
                Box::new(echo(200)),
            )],
            "",
        ),
        (
            "idle stream",
            vec![Answer::Stream {
                content_type: "text/event-stream",
                events: vec![],
                pause: Duration::ZERO,
                stall: Duration::from_millis(800),
            }],
            "stream = true  idle_timeout = 100ms",
        ),
        (
            "invalid output",
            vec![
                Answer::json(200, (OPENAI.reply)(KEY)),
                Answer::json(200, (OPENAI.reply)(KEY)),
            ],
            "",
        ),
    ];
    for (n, (stage, answers, options)) in stages.into_iter().enumerate() {
        let refused = answers.is_empty();
        let server = Server::start(answers);
        let mut text = judge(&OPENAI, &server, options);
        if refused {
            // A port nothing listens on: the listener is gone once the
            // server has given its (no) answers.
            std::thread::sleep(Duration::from_millis(50));
            text = text.replace(&server.url, "http://127.0.0.1:9");
        }
        let file = dir.join(format!("stage{n}.spes"));
        std::fs::write(&file, text).unwrap();
        let recording = dir.join(format!("stage{n}.jsonl"));
        let output = spesc_in(
            &dir,
            &[
                "run",
                file.to_str().unwrap(),
                "--input",
                "text=hi",
                "--record",
                recording.to_str().unwrap(),
                "--events",
                "json",
            ],
        );
        assert_eq!(
            output.status.code(),
            Some(1),
            "{stage} fails: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let everything = format!(
            "{}{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(&recording).unwrap_or_default()
        );
        assert!(
            !everything.contains(KEY),
            "{stage} leaks the key: {everything}"
        );
    }
    // The journal, byte for byte (the database and its write-ahead log).
    let mut journaled = 0;
    for entry in std::fs::read_dir(dir.join(".spes")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(KEY), "the journal leaks the key");
        journaled += text.matches("verdict").count();
    }
    assert!(journaled > 0, "the failed runs were journaled");
    let runs = spesc_in(&dir, &["runs", "--status", "failed"]);
    assert_eq!(
        String::from_utf8_lossy(&runs.stdout)
            .lines()
            .skip(1)
            .count(),
        7,
        "every failed run is in the journal"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_key_echoed_in_a_successful_reply_is_redacted_from_result_events_journal_and_recording() {
    let dir = std::env::temp_dir().join(format!("spesc-providers-echo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A key with characters JSON escapes: the reply carries it escaped
    // once (in the body) and twice (in the model's JSON inside the body).
    let key = r#"sk-"quoted"\back/slash-0123456789"#;
    let verdict = json!({"mood": "calm", "reason": format!("your key is {key}")});
    let server = Server::start(vec![Answer::json(
        200,
        (OPENAI.reply)(&verdict.to_string()),
    )]);
    let file = dir.join("echo.spes");
    let text = judge(&OPENAI, &server, "").replace(KEY_VARIABLE, "SPESC_ECHO_KEY");
    std::fs::write(&file, text).unwrap();
    let recording = dir.join("echo.jsonl");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_spesc"))
        .args([
            "run",
            file.to_str().unwrap(),
            "--input",
            "text=hi",
            "--events",
            "json",
        ])
        .args(["--record", recording.to_str().unwrap()])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env("SPESC_ECHO_KEY", key)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("your key is [redacted]"), "{stdout}");
    let mut kept = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    kept += &std::fs::read_to_string(&recording).unwrap();
    for entry in std::fs::read_dir(dir.join(".spes")).unwrap() {
        kept += &String::from_utf8_lossy(&std::fs::read(entry.unwrap().path()).unwrap());
    }
    let shown = spesc_in(&dir, &["show", "last", "--json"]);
    assert!(shown.status.success(), "the run is shown");
    kept += &String::from_utf8_lossy(&shown.stdout);
    // The key's tail is distinctive in every escaped form.
    assert!(!kept.contains("slash-0123456789"), "the key leaks: {kept}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_summarized_context_is_summarized_by_the_real_model() {
    let long = "A long finding about the release. ".repeat(40);
    let server = Server::start(vec![
        Answer::json(200, (OPENAI.reply)(&long)),
        Answer::json(200, (OPENAI.reply)("Short summary.")),
        Answer::json(200, (OPENAI.reply)("The brief.")),
    ]);
    let text = format!(
        "{}
workflow w(topic: string) -> string {{
  step research: string {{ model = m  prompt = \"Research {{{{ topic }}}}\" }}
  step brief: string {{ model = m  context = summarized(max_tokens = 50, model = m)  prompt = \"Brief on it\"  after = [research] }}
  return brief
}}",
        model(&OPENAI, &server, "")
    );
    let record = run_with(&text, "w", json!({"topic": "x"}), &RunOptions::default());
    assert_eq!(output(&record), &json!("The brief."));
    let seen = server.seen();
    assert_well_formed(&OPENAI, &seen);
    let summary_request = seen[1].body.to_string();
    assert!(
        summary_request.contains("Summarize the context below"),
        "{summary_request}"
    );
    let brief_request = seen[2].body.to_string();
    assert!(brief_request.contains("Short summary."), "{brief_request}");
    let summary = record
        .steps
        .iter()
        .find(|s| s.id == "brief.summary")
        .unwrap();
    assert_eq!(
        summary.tokens,
        Some(Tokens {
            prompt: 19,
            completion: 10
        }),
        "counted by the server"
    );
}

#[test]
fn a_connection_refused_names_the_url_and_hints_at_a_local_server() {
    // A port that was just free: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let text = format!(
        "{TYPES}
model m {{ provider = openai  name = \"gpt-4o-mini\"  base_url = \"http://127.0.0.1:{port}/v1\"  api_key_env = \"{KEY_VARIABLE}\" }}
workflow judge(text: string) -> Verdict {{
  step verdict: Verdict {{ model = m  retry = patient  prompt = \"Judge: {{{{ text }}}}\" }}
  return verdict
}}"
    );
    let record = run_with(&text, "judge", json!({"text": "x"}), &RunOptions::default());
    let error = failure(&record);
    assert!(
        error.contains(&format!(
            "no answer from http://127.0.0.1:{port}/v1/chat/completions: connection refused or unreachable; nothing is listening there: is the local server running?"
        )),
        "{error}"
    );
    assert!(!error.contains(KEY_VARIABLE), "{error}");
}

#[test]
fn rate_limits_slow_a_fan_out_down_and_do_not_trip_the_breaker() {
    // Sixteen items, each told once to wait: more 429s than the breaker's
    // five failures, and every item still succeeds.
    let mut answers: Vec<Answer> = (0..16)
        .map(|_| {
            Answer::json(429, (OPENAI.error)(429, "Rate limit reached"))
                .with_header("retry-after", "0.1")
        })
        .collect();
    answers.extend((0..16).map(|_| Answer::json(200, (OPENAI.reply)("done"))));
    let server = Server::start(answers);
    let text = format!(
        "{}
workflow w(docs: string[]) -> string[] {{
  let out: string[] = for doc in docs (concurrency = 16) {{
    step summary: string {{ model = m  prompt = \"Sum {{{{ doc }}}}\" }}
    summary
  }}
  return out
}}",
        model(&OPENAI, &server, "")
    );
    let docs: Vec<String> = (0..16).map(|i| format!("doc {i}")).collect();
    let record = run_with(&text, "w", json!({ "docs": docs }), &RunOptions::default());
    let out = output(&record).as_array().expect("a list").clone();
    assert_eq!(out.len(), 16, "{:?}", record.outcome);
    assert!(out.iter().all(|s| s == "done"));
    assert_eq!(server.seen().len(), 32);
}
