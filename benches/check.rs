//! Checking speed: parse + check of generated workflows of 10,000 and
//! 20,000 steps with references, `match`es and loops.
//!
//! `cargo bench --bench check` prints the median and fastest of several
//! runs for each size and the ratio between them. Target: 10,000 steps
//! under 500 ms including parsing, and linear in size (the figures go to
//! `docs/benchmarks.md`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use spesc::check::{check, NoFiles};
use spesc::source::SourceMap;

/// A workflow of about `steps` steps. Each block of ten has seven chained
/// LLM steps, a `match` whose arms hold a step each, and a two-step loop;
/// every step reads the one before it.
fn workflow(steps: usize) -> String {
    let mut text = String::from(
        "model fast { provider = mock }\n\
         enum Route { short, long }\n\
         type Grade { score: float  feedback: string }\n\n\
         workflow big(topic: string) -> string {\n\
         \x20 step s0: string { model = fast  prompt = \"Start on {{ topic }}\" }\n",
    );
    let mut last = "s0".to_string();
    for block in 0..steps / 10 {
        for i in 1..=7 {
            let name = format!("b{block}_{i}");
            text.push_str(&format!(
                "  step {name}: string {{\n    model = fast\n    timeout = 30s\n    \
                 prompt = \"Improve this: {{{{ {last} }}}}\"\n    \
                 check len(this) > 0 else \"empty reply\"\n  }}\n"
            ));
            last = name;
        }
        text.push_str(&format!(
            "  step route{block}: Route {{ model = fast  prompt = \"Route {{{{ {last} }}}}\" }}\n  \
             let pick{block}: string = match route{block} {{\n    \
             short => {{\n      step quick{block}: string {{ model = fast  prompt = \"Shorten {{{{ {last} }}}}\" }}\n      quick{block}\n    }}\n    \
             long => {last}\n  }}\n  \
             loop polish{block} (max = 3, best_by = grade.score) {{\n    \
             step attempt: string {{ model = fast  prompt = \"Polish {{{{ pick{block} }}}}{{% if previous %}} after {{{{ previous.grade.feedback }}}}{{% end %}}\" }}\n    \
             step grade: Grade {{ model = fast  prompt = \"Grade {{{{ attempt }}}}\" }}\n    \
             until grade.score >= 0.8\n  }}\n"
        ));
        last = format!("polish{block}.attempt");
    }
    text.push_str(&format!("  return {last}\n}}\n"));
    text
}

fn time_check(text: &str, runs: usize) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let mut sources = SourceMap::new();
            let file = sources.add("big.spes", black_box(text));
            let roots = [(file, "big.spes".into())];
            let checking = check(&mut sources, &roots, &NoFiles, &Default::default());
            let diagnostics = checking.diagnostics;
            assert!(diagnostics.is_empty(), "{:?}", diagnostics.first());
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[runs / 2], times[0])
}

fn main() {
    // `cargo test --benches` runs this too; keep that quick.
    let runs = if std::env::args().any(|a| a == "--bench") {
        11
    } else {
        1
    };
    let small = workflow(10_000);
    let large = workflow(20_000);
    time_check(&small, 1); // warm up
    let (t_small, fastest_small) = time_check(&small, runs);
    let (t_large, fastest_large) = time_check(&large, runs);
    for (steps, text, median, fastest) in [
        ("10,000", &small, t_small, fastest_small),
        ("20,000", &large, t_large, fastest_large),
    ] {
        println!(
            "check {steps} steps ({:.1} MB): median {:>6.1} ms, fastest {:>6.1} ms",
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
