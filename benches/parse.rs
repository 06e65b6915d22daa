//! Parsing speed on generated workflows of 10,000 and 20,000 steps.
//!
//! `cargo bench --bench parse` prints the median of several runs for each
//! size and the ratio between them (linear means about 2.0). A plain harness
//! with `std::time::Instant` keeps the build lean; the figures go to
//! `docs/benchmarks.md`. Targets: 10,000 steps under 200 ms, and 20,000 steps
//! at most 2.2× the time of 10,000.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// A workflow of `steps` LLM steps, each reading the one before, with the
/// clauses and templates a real file has.
fn workflow(steps: usize) -> String {
    let mut text = String::from(
        "model fast { provider = mock  name = \"bench\" }\n\n\
         workflow chain(topic: string) -> string {\n",
    );
    text.push_str("  step s0: string { model = fast  prompt = \"Start on {{ topic }}\" }\n");
    for i in 1..steps {
        text.push_str(&format!(
            "  step s{i}: string {{\n    model = fast\n    timeout = 30s\n    \
             prompt = \"Improve this, step {i}: {{{{ s{prev} }}}}\"\n    \
             check len(this) > 0 else \"empty reply\"\n  }}\n",
            prev = i - 1
        ));
    }
    text.push_str(&format!("  return s{}\n}}\n", steps - 1));
    text
}

/// The median and the fastest of `runs` parses. This machine's timings
/// vary by up to ±40% from one run to the next (shared cores), so both are
/// reported: the median is the figure, the fastest shows the noise floor.
fn time_parse(text: &str, runs: usize) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let parsed = spesc::syntax::parse(Default::default(), black_box(text));
            assert!(parsed.diagnostics.is_empty());
            black_box(parsed);
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[runs / 2], times[0])
}

fn main() {
    // `cargo test --benches` runs this too; keep that quick.
    let runs = if std::env::args().any(|a| a == "--bench") {
        21
    } else {
        1
    };
    let small = workflow(10_000);
    let large = workflow(20_000);
    time_parse(&small, 1); // warm up
    let (t_small, fastest_small) = time_parse(&small, runs);
    let (t_large, fastest_large) = time_parse(&large, runs);
    for (steps, text, median, fastest) in [
        ("10,000", &small, t_small, fastest_small),
        ("20,000", &large, t_large, fastest_large),
    ] {
        println!(
            "parse {steps} steps ({:.1} MB): median {:>6.1} ms, fastest {:>6.1} ms",
            text.len() as f64 / 1e6,
            median.as_secs_f64() * 1e3,
            fastest.as_secs_f64() * 1e3
        );
    }
    println!(
        "ratio 20,000 / 10,000: {:.2}",
        t_large.as_secs_f64() / t_small.as_secs_f64()
    );
}
