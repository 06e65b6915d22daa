//! `fetch` against real HTTP servers on 127.0.0.1: what it sends, what it
//! retries, and where it may go — the link-local refusal, `--fetch-allow`
//! (by address, by network, by name, after a redirect), the redirect
//! limit and the response-size cap.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use spesc::check::Loader;
use spesc::journal::record::{Outcome, RunRecord};
use spesc::plan::compile;
use spesc::runtime::reach::Reach;
use spesc::runtime::{run, RunOptions};
use spesc::source::SourceMap;

/// Reads imports and component files from the repository.
struct Files;

impl Loader for Files {
    fn read(&self, path: &Path) -> Result<(String, String), String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Ok((path.display().to_string(), text))
    }
}

fn run_text(text: &str, workflow: &str, inputs: Value, options: RunOptions) -> RunRecord {
    let mut sources = SourceMap::new();
    let file = sources.add("t.spes", text);
    let compiled = compile(
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
    run(&plan, workflow, inputs, &options)
}

fn output(record: &RunRecord) -> &Value {
    match &record.outcome {
        Outcome::Succeeded { output } => output,
        other => panic!("the run did not succeed: {other:?}\n{:#?}", record.steps),
    }
}

fn failure(record: &RunRecord) -> &str {
    match &record.outcome {
        Outcome::Failed { error, .. } => error,
        other => panic!("the run did not fail: {other:?}"),
    }
}

/// How the server answers one request.
struct Reply {
    status: u16,
    /// Extra header lines, each ending in `\r\n`.
    headers: String,
    body: String,
    /// Whether the reply says its length (else it ends when the server
    /// closes the connection).
    sized: bool,
}

fn reply(status: u16, headers: &str, body: &str) -> Reply {
    Reply {
        status,
        headers: headers.to_string(),
        body: body.to_string(),
        sized: true,
    }
}

type Heads = Arc<Mutex<Vec<String>>>;

/// A real HTTP server on 127.0.0.1 that answers request `n` with
/// `replies[n]` and records each request's head. Returns its base URL and
/// the recorded heads.
fn serve(replies: Vec<Reply>) -> (String, Heads) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for answer in replies {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(n) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = n.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body_in = vec![0; length];
            let _ = reader.read_exact(&mut body_in);
            log.lock().unwrap().push(head);
            let mut stream = reader.into_inner();
            let size = match answer.sized {
                true => format!("Content-Length: {}\r\n", answer.body.len()),
                false => String::new(),
            };
            let reply = format!(
                "HTTP/1.1 {} X\r\n{size}Connection: close\r\n{}\r\n{}",
                answer.status, answer.headers, answer.body
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (url, seen)
}

const SPEC: &str =
    r#"{"openapi": "3.0.0", "info": {"title": "Pets"}, "paths": {"/pets": {"get": {}}}}"#;

#[test]
fn the_fetch_example_retries_a_5xx_then_analyzes_the_document() {
    let (url, seen) = serve(vec![
        reply(503, "Retry-After: 0\r\n", "busy"),
        reply(200, "Content-Type: application/json\r\n", SPEC),
    ]);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fetch_analyze_document.spes");
    let text = std::fs::read_to_string(&path).expect("example");
    let mut sources = SourceMap::new();
    let file = sources.add("fetch.spes", text);
    let compiled = compile(&mut sources, &[(file, path)], &Files, &Default::default());
    let plan = compiled.plan.expect("the example checks clean");
    let Value::Object(inputs) = json!({"spec_url": format!("{url}/spec")}) else {
        unreachable!()
    };
    let mock = RunOptions {
        mock_all: true,
        ..RunOptions::default()
    };
    let record = run(&plan, "document_api", inputs, &mock);
    let result = output(&record).as_str().expect("text").to_string();
    assert!(
        result.ends_with("<!-- samples checked: 0 python blocks -->"),
        "{result}"
    );
    let spec = record.steps.iter().find(|s| s.id == "spec").unwrap();
    assert_eq!(spec.attempts, 2);
    assert_eq!(spec.retried, [format!("`{url}/spec` answered HTTP 503")]);
    let heads = seen.lock().unwrap();
    assert_eq!(heads.len(), 2);
    assert!(
        heads[1].starts_with("GET /spec HTTP/1.1\r\n"),
        "{}",
        heads[1]
    );
    assert!(
        heads[1]
            .to_ascii_lowercase()
            .contains("accept: application/json"),
        "{}",
        heads[1]
    );
}

#[test]
fn a_fetch_sends_its_method_query_and_body_and_a_404_is_not_retried() {
    let (url, seen) = serve(vec![
        reply(200, "", r#"{"id": 7}"#),
        reply(404, "", "no such thing"),
    ]);
    let text = "type Created { id: int }
workflow w(base: string) -> int {
  step made: Created = fetch { url = base + \"/items\"  method = post  query = { dry = \"no\" }  body = { name = \"x\" } }
  step missing: json = fetch { url = base + \"/gone\" }
  return made.id
}";
    let record = run_text(text, "w", json!({"base": url}), RunOptions::default());
    match &record.outcome {
        Outcome::Failed { step, error } => {
            assert_eq!(step, "missing");
            assert!(error.ends_with("/gone` answered HTTP 404"), "{error}");
        }
        other => panic!("the 404 should fail the run: {other:?}"),
    }
    assert_eq!(
        record
            .steps
            .iter()
            .find(|s| s.id == "missing")
            .unwrap()
            .attempts,
        1
    );
    let heads = seen.lock().unwrap();
    assert!(
        heads[0].starts_with("POST /items?dry=no HTTP/1.1"),
        "{}",
        heads[0]
    );
    assert!(heads[0]
        .to_ascii_lowercase()
        .contains("content-type: application/json"));
}

// ---- where fetch may go -----------------------------------------------------------------

/// One fetch of `url`, retried on what may pass, as text.
const GET: &str =
    "retry twice { attempts = 2  backoff = constant(1ms)  on = [server_error, timeout] }
workflow get(url: string) -> string {
  step page: string = fetch { url = url  retry = twice  timeout = 5s }
  return page
}";

fn get(url: &str, reach: Reach) -> RunRecord {
    let options = RunOptions {
        reach: Arc::new(reach),
        ..RunOptions::default()
    };
    run_text(GET, "get", json!({ "url": url }), options)
}

fn allowing(entries: &[&str]) -> Reach {
    Reach {
        allow: entries.iter().map(|e| e.parse().unwrap()).collect(),
        ..Reach::default()
    }
}

#[test]
fn a_link_local_address_is_refused_at_once_and_never_retried() {
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
    ] {
        let record = get(url, Reach::default());
        let error = failure(&record);
        assert!(
            error.contains("is a link-local address") && error.contains("`--fetch-allow`"),
            "{error}"
        );
        assert_eq!(record.steps[0].attempts, 1, "{url} is not retried");
    }
}

#[test]
fn an_allow_list_admits_what_it_names_by_address_network_or_name() {
    let (url, seen) = serve((0..4).map(|_| reply(200, "", "hello")).collect());
    let port = url.rsplit(':').next().unwrap().to_string();
    let by_name = format!("http://localhost:{port}/");
    for allowed in [
        &["127.0.0.1"][..],
        &["127.0.0.0/8"],
        &["10.0.0.0/8", "localhost"],
    ] {
        let record = get(&by_name, allowing(allowed));
        assert_eq!(output(&record), "hello", "{allowed:?} admits localhost");
    }
    let record = get(&format!("{url}/"), allowing(&["127.0.0.1"]));
    assert_eq!(output(&record), "hello");
    // Refused by address and by what a name resolves to: nothing is sent.
    for (target, allowed) in [(format!("{url}/"), "10.0.0.0/8"), (by_name, "10.0.0.0/8")] {
        let record = get(&target, allowing(&[allowed]));
        let error = failure(&record);
        assert!(
            error.contains("is not in what `--fetch-allow` lets fetch reach"),
            "{error}"
        );
        assert_eq!(record.steps[0].attempts, 1);
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        4,
        "refused fetches send nothing"
    );
}

#[test]
fn redirects_are_followed_to_a_limit_and_checked_where_they_lead() {
    let (target, _) = serve(vec![reply(200, "", "arrived")]);
    let hop = |to: &str| reply(302, &format!("Location: {to}\r\n"), "");
    let (url, _) = serve(vec![hop(&format!("{target}/next"))]);
    assert_eq!(output(&get(&url, Reach::default())), "arrived");

    let (url, _) = serve(vec![hop("/again"), hop("/more"), hop("/end")]);
    let limited = Reach {
        max_redirects: 2,
        ..Reach::default()
    };
    let error = failure(&get(&url, limited)).to_string();
    assert!(
        error.contains("/end`, but fetch follows at most 2 redirects (`--max-redirects`)"),
        "{error}"
    );

    let (url, _) = serve(vec![hop("/next")]);
    let none = Reach {
        max_redirects: 0,
        ..Reach::default()
    };
    let error = failure(&get(&url, none)).to_string();
    assert!(
        error.contains("fetch follows no redirects (`--no-redirects`)"),
        "{error}"
    );

    let (url, _) = serve(vec![hop("http://169.254.169.254/latest/meta-data/")]);
    let error = failure(&get(&url, Reach::default())).to_string();
    assert!(
        error.contains("`169.254.169.254` is a link-local address"),
        "{error}"
    );
}

#[test]
fn a_body_over_the_size_limit_fails_as_it_streams_in() {
    let big = "x".repeat(5000);
    let unsized_reply = Reply {
        sized: false,
        ..reply(200, "", &big)
    };
    let (url, _) = serve(vec![
        reply(200, "", &big),
        unsized_reply,
        reply(200, "", &big),
    ]);
    let small = || Reach {
        max_response_bytes: 4096,
        ..Reach::default()
    };
    for told in ["its length", "no length"] {
        let record = get(&url, small());
        let error = failure(&record);
        assert!(
            error.ends_with("the answer is over 4 KiB (`--max-response-size`)"),
            "{told}: {error}"
        );
        assert_eq!(record.steps[0].attempts, 1, "{told}: not retried");
    }
    assert_eq!(
        output(&get(&url, Reach::default())).as_str().unwrap().len(),
        5000
    );
}

#[test]
fn the_cli_takes_the_reach_options_and_refuses_bad_ones() {
    let dir = std::env::temp_dir().join(format!("spesc-fetch-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("get.spes"), GET).unwrap();
    let (url, seen) = serve(vec![reply(200, "", "hello")]);
    let spesc = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_spesc"))
            .args(["run", "get.spes", "--input", &format!("url={url}/"), "-q"])
            .args(extra)
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let refused = spesc(&["--fetch-allow", "10.0.0.0/8", "--max-redirects", "1"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("`--fetch-allow`"), "{stderr}");
    let allowed = spesc(&[
        "--fetch-allow",
        "127.0.0.1",
        "--no-redirects",
        "--max-response-size",
        "1KiB",
    ]);
    assert_eq!(String::from_utf8_lossy(&allowed.stdout).trim(), "\"hello\"");
    assert_eq!(seen.lock().unwrap().len(), 1);
    for bad in [
        &["--fetch-allow", "10.0.0.0/40"][..],
        &["--max-response-size", "12MB"],
        &["--no-redirects", "--max-redirects", "3"],
    ] {
        let output = spesc(bad);
        assert_eq!(output.status.code(), Some(2), "{bad:?} is refused");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
