//! Model calls over HTTP, through the real `openai` client, to a local
//! server. `cargo bench --bench serve`; the figures go to
//! `docs/benchmarks.md`. Three measures, each a ratio taken in this run:
//!
//! 1. a 600-step sequential chain, journal on, against a bare reqwest loop
//!    making the same 600 requests (target: within 2×);
//! 2. a 1,000-item `for` at `concurrency = 64` against a server answering
//!    in 20 ms, against the ideal ⌈1000/64⌉ × 20 ms (target: within 1.3×,
//!    with no setting beyond the `for`'s own);
//! 3. 10,000 items at `concurrency = 256`: requests per second and peak
//!    resident memory (target: under 100 MB).
//!
//! The server is this same program started again as a child process
//! (`SPESC_BENCH_SERVER=1`), so the memory measured is spesc's alone. A
//! request whose path starts with `/slow` is answered after 20 ms.

// A benchmark fails by panicking, like a test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use spesc::journal::record::Outcome;
use spesc::plan::Plan;
use spesc::runtime::{run, RunOptions};

const SLOW: Duration = Duration::from_millis(20);

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
    let runs = if std::env::args().any(|a| a == "--bench") {
        5
    } else {
        1
    };
    chain_against_bare_reqwest(&url, runs);
    fan_out_against_a_slow_server(&url, runs);
    fan_out_at_scale(&url, runs);
    server.kill().ok();
    server.wait().ok();
}

/// Measure 1: what the interpreter, the client and the journal add to a
/// sequence of HTTP round trips.
fn chain_against_bare_reqwest(url: &str, runs: usize) {
    const STEPS: usize = 600;
    let mut text = model(url, "");
    text.push_str(
        "workflow chain() -> string {\n  step s0: string { model = local  prompt = \"Start\" }\n",
    );
    for i in 1..STEPS {
        text.push_str(&format!(
            "  step s{i}: string {{ model = local  prompt = \"Improve: {{{{ s{} }}}}\" }}\n",
            i - 1
        ));
    }
    text.push_str(&format!("  return s{}\n}}\n", STEPS - 1));
    let plan = support::plan(&text);
    let mut chain = Vec::new();
    let mut bare = Vec::new();
    for _ in 0..runs {
        // Interleaved, so a noisy spell on this machine hits both alike.
        chain.push(timed(&plan, "chain", Map::new(), Some("chain")).0);
        bare.push(bare_reqwest_loop(url, STEPS));
    }
    let (chain, bare) = (median(chain), median(bare));
    println!(
        "{STEPS}-step chain over HTTP, journaled: {:.1} ms ({:.0} µs per step); bare reqwest loop: {:.1} ms ({:.0} µs per request); ratio {:.2} (target ≤ 2)",
        chain * 1e3,
        chain * 1e6 / STEPS as f64,
        bare * 1e3,
        bare * 1e6 / STEPS as f64,
        chain / bare
    );
}

/// The floor for measure 1: one client, one connection, the same request
/// body shape, the reply parsed as JSON.
fn bare_reqwest_loop(url: &str, requests: usize) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let endpoint = format!("{url}/v1/chat/completions");
    runtime.block_on(async {
        let start = Instant::now();
        let mut previous = String::from("Start");
        for _ in 0..requests {
            let body = json!({"model": "bench", "messages": [
                {"role": "user", "content": format!("Improve: {previous}")}]});
            let reply = client
                .post(&endpoint)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let reply: Value = serde_json::from_slice(&reply).unwrap();
            previous = reply["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_string();
        }
        start.elapsed().as_secs_f64()
    })
}

/// Measure 2: a fan-out whose items wait on the model, not on spesc.
fn fan_out_against_a_slow_server(url: &str, runs: usize) {
    const ITEMS: usize = 1_000;
    const CONCURRENCY: usize = 64;
    let plan = support::plan(&fan_out(url, "/slow", CONCURRENCY));
    let times: Vec<f64> = (0..runs)
        .map(|_| timed(&plan, "fan", items(ITEMS), None).0)
        .collect();
    let ideal = ITEMS.div_ceil(CONCURRENCY) as f64 * SLOW.as_secs_f64();
    let time = median(times);
    println!(
        "{ITEMS}-item for at concurrency {CONCURRENCY}, server answering in {} ms: {:.0} ms; ideal {:.0} ms; ratio {:.2} (target ≤ 1.3)",
        SLOW.as_millis(),
        time * 1e3,
        ideal * 1e3,
        time / ideal
    );
}

/// Measure 3: throughput and memory of a large fan-out.
fn fan_out_at_scale(url: &str, runs: usize) {
    const ITEMS: usize = 10_000;
    let plan = support::plan(&fan_out(url, "", 256));
    let (_, before) = memory();
    let rates: Vec<f64> = (0..runs)
        .map(|_| ITEMS as f64 / timed(&plan, "fan", items(ITEMS), Some("fan")).0)
        .collect();
    let (peak, _) = memory();
    println!(
        "{ITEMS}-item for at concurrency 256, journaled: median {:.0} requests/s; memory {before:.1} MiB resident before, {peak:.1} MiB peak (target < 100 MB)",
        median(rates),
    );
}

fn model(url: &str, path: &str) -> String {
    format!(
        "model local {{ provider = openai  name = \"bench\"  base_url = \"{url}{path}/v1\" }}\n\n"
    )
}

fn fan_out(url: &str, path: &str, concurrency: usize) -> String {
    model(url, path)
        + &format!(
            "workflow fan(items: int[]) -> int {{
  let results: string[] = for item in items (concurrency = {concurrency}) {{
    step summary: string {{ model = local  prompt = \"Summarize item {{{{ item }}}}\" }}
    summary
  }}
  return len(results)
}}
"
        )
}

fn items(n: usize) -> Map<String, Value> {
    let mut inputs = Map::new();
    inputs.insert("items".into(), (0..n).map(Value::from).collect());
    inputs
}

/// Runs `workflow` once (journaled when `journal` names one) and gives its
/// wall time in seconds and its output.
fn timed(
    plan: &Plan,
    workflow: &str,
    inputs: Map<String, Value>,
    journal: Option<&str>,
) -> (f64, Value) {
    let options = RunOptions {
        journal: journal.map(support::journal),
        ..RunOptions::default()
    };
    let start = Instant::now();
    let record = run(plan, workflow, inputs, &options);
    let elapsed = start.elapsed().as_secs_f64();
    match record.outcome {
        Outcome::Succeeded { output } => (elapsed, output),
        other => panic!("{other:?}"),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
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

/// Server mode: answers every chat completion (after 20 ms under
/// `/slow`), keeping connections alive, one thread per connection.
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
    stream.set_nodelay(true).ok();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0;
        let mut slow = false;
        let mut first = true;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if first {
                slow = line.starts_with("POST /slow");
                first = false;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(n) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = n.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if slow {
            std::thread::sleep(SLOW);
        }
        if writer.write_all(reply).is_err() {
            return;
        }
    }
}
