//! Model calls over HTTP at scale: a 10,000-item `for` at concurrency 256,
//! every item one call of the `openai` provider to a local server that
//! answers at once (no artificial latency). Reports requests per second
//! and the run's peak memory. `cargo bench --bench serve`; the figures go
//! to `docs/benchmarks.md`.
//!
//! The server is this same program started again as a child process
//! (`SPESC_BENCH_SERVER=1`), so the peak memory measured is spesc's alone.

// A benchmark fails by panicking, like a test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{json, Map, Value};
use spesc::check::{compile, Loader, NoFiles};
use spesc::run::record::Outcome;
use spesc::run::{run, RunOptions};
use spesc::source::SourceMap;

const ITEMS: usize = 10_000;

/// The workflow, its model pointed at `url`.
fn fan_out(url: &str) -> String {
    format!(
        "model local {{ provider = openai  name = \"bench\"  base_url = \"{url}/v1\" }}

workflow fan(items: int[]) -> int {{
  max_concurrency = 256
  let results: string[] = for item in items (concurrency = 256) {{
    step summary: string {{ model = local  prompt = \"Summarize item {{{{ item }}}}\" }}
    summary
  }}
  return len(results)
}}
"
    )
}

/// Server mode: answers every chat completion at once, keeping
/// connections alive, one thread per connection.
fn serve() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    println!("{}", listener.local_addr().unwrap());
    std::io::stdout().flush().unwrap();
    let body =
        json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "A summary."},
        "finish_reason": "stop"}], "usage": {"prompt_tokens": 12, "completion_tokens": 3}})
        .to_string();
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    for stream in listener.incoming() {
        let reply = reply.clone();
        std::thread::spawn(move || answer_all(stream.unwrap(), reply.as_bytes()));
    }
}

fn answer_all(stream: TcpStream, reply: &[u8]) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(n) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = n.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() || writer.write_all(reply).is_err() {
            return;
        }
    }
}

/// `VmHWM` (peak resident memory) and `VmRSS` of this process, in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn main() {
    if std::env::var_os("SPESC_BENCH_SERVER").is_some() {
        return serve();
    }
    let mut server = Command::new(std::env::current_exe().unwrap())
        .env("SPESC_BENCH_SERVER", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut address = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut address)
        .unwrap();
    let url = format!("http://{}", address.trim());

    let loader: &dyn Loader = &NoFiles;
    let mut sources = SourceMap::new();
    let text = fan_out(&url);
    let file = sources.add("bench.spes", text);
    let compiled = compile(
        &mut sources,
        &[(file, Path::new("bench.spes").into())],
        loader,
        &Default::default(),
    );
    assert!(
        compiled.plan.is_some(),
        "{:?}",
        compiled.diagnostics.first()
    );
    let mut inputs = Map::new();
    inputs.insert(
        "items".into(),
        Value::Array((0..ITEMS).map(Value::from).collect()),
    );
    let runs = if std::env::args().any(|a| a == "--bench") {
        5
    } else {
        1
    };
    let (_, before) = memory();
    let mut rates: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let record = run(
                &compiled,
                loader,
                "fan",
                inputs.clone(),
                &RunOptions::default(),
            )
            .expect("a plan");
            let elapsed = start.elapsed();
            assert!(
                matches!(&record.outcome, Outcome::Succeeded { output } if output == &json!(ITEMS)),
                "{:?}",
                record.outcome
            );
            ITEMS as f64 / elapsed.as_secs_f64()
        })
        .collect();
    let (peak, _) = memory();
    chain_with_and_without_the_journal(&url, runs);
    server.kill().ok();
    server.wait().ok();
    rates.sort_by(f64::total_cmp);
    println!(
        "10,000-item for at concurrency 256 over HTTP: median {:.0} requests/s (best {:.0}, {runs} runs)",
        rates[runs / 2],
        rates[runs - 1]
    );
    println!("memory: {before:.1} MiB resident before the runs, {peak:.1} MiB peak");
}

/// A 1,000-step chain of calls to the same server, with and without the
/// SQLite journal: what the journal costs next to a (very fast) model.
fn chain_with_and_without_the_journal(url: &str, runs: usize) {
    let mut text = format!(
        "model local {{ provider = openai  name = \"bench\"  base_url = \"{url}/v1\" }}\n\nworkflow chain() -> string {{\n  step s0: string {{ model = local  prompt = \"Start\" }}\n"
    );
    for i in 1..1000 {
        text.push_str(&format!(
            "  step s{i}: string {{ model = local  prompt = \"Improve: {{{{ s{} }}}}\" }}\n",
            i - 1
        ));
    }
    text.push_str("  return s999\n}\n");
    let loader: &dyn Loader = &NoFiles;
    let mut sources = SourceMap::new();
    let file = sources.add("chain.spes", text);
    let compiled = compile(
        &mut sources,
        &[(file, Path::new("chain.spes").into())],
        loader,
        &Default::default(),
    );
    let median = |journaled: bool| {
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let options = RunOptions {
                    journal: journaled.then(|| support::journal("serve")),
                    ..RunOptions::default()
                };
                let start = Instant::now();
                let record = run(&compiled, loader, "chain", Map::new(), &options).expect("a plan");
                assert!(
                    matches!(record.outcome, Outcome::Succeeded { .. }),
                    "{:?}",
                    record.outcome
                );
                start.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[runs / 2]
    };
    let (bare, journaled) = (median(false), median(true));
    println!(
        "1,000-step chain over HTTP: {:.1} ms without the journal, {:.1} ms with it ({:.2}×; {:.1} µs per node)",
        bare * 1e3,
        journaled * 1e3,
        journaled / bare,
        (journaled - bare) * 1e6 / 1000.0
    );
}
