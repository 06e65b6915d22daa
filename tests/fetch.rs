//! `fetch` against real HTTP servers on 127.0.0.1: what it sends, what it
//! retries, and where it may go — the link-local refusal, `--fetch-allow`
//! (by address, by network, by name, after a redirect), the redirect
//! limit and the response-size cap.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};
use spesc::journal::record::{Outcome, RunRecord};
use spesc::plan::compile;
use spesc::runtime::reach::Reach;
use spesc::runtime::{run, RunOptions};
use spesc::source::SourceMap;
use support::run::{failure, output, run_text, Files};
use support::{Answer, Server};

/// A reply with `status`, `body` and no other header.
fn reply(status: u16, body: &str) -> Answer {
    Answer::Reply {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

const SPEC: &str =
    r#"{"openapi": "3.0.0", "info": {"title": "Pets"}, "paths": {"/pets": {"get": {}}}}"#;

#[test]
fn the_fetch_example_retries_a_5xx_then_analyzes_the_document() {
    let server = Server::start(vec![
        reply(503, "busy").with_header("retry-after", "0"),
        Answer::json(200, SPEC),
    ]);
    let url = &server.url;
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
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("GET", "/spec")
    );
    assert_eq!(
        seen[1].headers["accept"], "application/json",
        "{:?}",
        seen[1]
    );
}

#[test]
fn a_fetch_sends_its_method_query_and_body_and_a_404_is_not_retried() {
    let server = Server::start(vec![
        Answer::json(200, r#"{"id": 7}"#),
        reply(404, "no such thing"),
    ]);
    let url = &server.url;
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
    let seen = server.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/items?dry=no")
    );
    assert_eq!(seen[0].headers["content-type"], "application/json");
    assert_eq!(seen[0].body, json!({"name": "x"}));
}

// ---- where fetch may go -----------------------------------------------------------------

/// One fetch of `url`, retried on what may pass, as text.
const GET: &str =
    "retry twice { attempts = 2  backoff = constant(1ms)  on = [server_error, timeout] }
workflow get(url: string) -> string {
  step page: string = fetch { url = url  retry = twice  timeout = 5s }
  return page
}";

#[test]
fn a_body_is_read_as_the_steps_type_and_one_that_fits_nothing_is_retried() {
    let server = Server::start(vec![
        reply(200, "<html>not it</html>"),
        reply(200, "Your pet: {name: 'Rex', age: '3'} (cached)"),
    ]);
    let text = "type Pet { name: string  age: int }
workflow w(url: string) -> Pet {
  step pet: Pet = fetch { url = url  retry = { attempts = 2  backoff = constant(1ms)  on = [invalid_output] } }
  return pet
}";
    let record = run_text(
        text,
        "w",
        json!({ "url": server.url }),
        RunOptions::default(),
    );
    assert_eq!(output(&record), &json!({"name": "Rex", "age": 3}));
    let pet = record.steps.iter().find(|s| s.id == "pet").unwrap();
    assert_eq!(pet.attempts, 2);
    assert!(
        pet.retried[0].starts_with("the reply is not valid JSON"),
        "{:?}",
        pet.retried
    );
    assert_eq!(
        pet.repairs,
        [
            "prose around the JSON removed",
            "single quotes replaced",
            "unquoted keys quoted",
            "\"3\" read as a number"
        ]
    );
}

#[test]
fn a_json_step_takes_a_json_body_as_json_and_any_other_as_text() {
    let server = Server::start(vec![
        reply(200, r#"{"pets": ["Rex"]}"#),
        reply(200, "<html>{not json}</html>"),
    ]);
    let text = "workflow w(url: string) -> json {
  step data: json = fetch { url = url }
  step page: json = fetch { url = url  after = [data] }
  return [data, page]
}";
    let record = run_text(
        text,
        "w",
        json!({ "url": server.url }),
        RunOptions::default(),
    );
    assert_eq!(
        output(&record),
        &json!([{"pets": ["Rex"]}, "<html>{not json}</html>"])
    );
}

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
    let server = Server::start((0..4).map(|_| reply(200, "hello")).collect());
    let url = &server.url;
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
    assert_eq!(server.seen().len(), 4, "refused fetches send nothing");
}

#[test]
fn redirects_are_followed_to_a_limit_and_checked_where_they_lead() {
    let target = Server::start(vec![reply(200, "arrived")]);
    let hop = |to: &str| reply(302, "").with_header("location", to);
    let serve = |hops| Server::start(hops).url;
    let url = serve(vec![hop(&format!("{}/next", target.url))]);
    assert_eq!(output(&get(&url, Reach::default())), "arrived");

    let url = serve(vec![hop("/again"), hop("/more"), hop("/end")]);
    let limited = Reach {
        max_redirects: 2,
        ..Reach::default()
    };
    let error = failure(&get(&url, limited)).to_string();
    assert!(
        error.contains("/end`, but fetch follows at most 2 redirects (`--max-redirects`)"),
        "{error}"
    );

    let url = serve(vec![hop("/next")]);
    let none = Reach {
        max_redirects: 0,
        ..Reach::default()
    };
    let error = failure(&get(&url, none)).to_string();
    assert!(
        error.contains("fetch follows no redirects (`--no-redirects`)"),
        "{error}"
    );

    let url = serve(vec![hop("http://169.254.169.254/latest/meta-data/")]);
    let error = failure(&get(&url, Reach::default())).to_string();
    assert!(
        error.contains("`169.254.169.254` is a link-local address"),
        "{error}"
    );
}

#[test]
fn a_body_over_the_size_limit_fails_as_it_streams_in() {
    let big = "x".repeat(5000);
    // A stream says no length: it ends when the server closes it.
    let unsized_reply = Answer::stream("text/plain", vec![big.clone()]);
    let server = Server::start(vec![reply(200, &big), unsized_reply, reply(200, &big)]);
    let url = &server.url;
    let small = || Reach {
        max_response_bytes: 4096,
        ..Reach::default()
    };
    for told in ["its length", "no length"] {
        let record = get(url, small());
        let error = failure(&record);
        assert!(
            error.ends_with("the answer is over 4 KiB (`--max-response-size`)"),
            "{told}: {error}"
        );
        assert_eq!(record.steps[0].attempts, 1, "{told}: not retried");
    }
    assert_eq!(
        output(&get(url, Reach::default())).as_str().unwrap().len(),
        5000
    );
}

#[test]
fn the_cli_takes_the_reach_options_and_refuses_bad_ones() {
    let dir = std::env::temp_dir().join(format!("spesc-fetch-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("get.spes"), GET).unwrap();
    let server = Server::start(vec![reply(200, "hello")]);
    let url = &server.url;
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
    assert_eq!(server.seen().len(), 1);
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
