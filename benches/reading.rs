//! Reading a reply as its type, on replies of 100 KB and 1 MB.
//!
//! `cargo bench --bench reading` prints, for each kind of reply, the
//! median time and throughput at both sizes and the ratio between them
//! (linear means about 10). The kinds: valid JSON (taken as it is), the
//! same JSON dressed as models write it (prose, a fence, single quotes,
//! unquoted keys, trailing commas), the dressed reply cut off before its
//! end, and a reply whose prose holds thousands of `{braces}` before the
//! JSON (every one a candidate that must be tried and dropped), and a
//! field of unquoted prose full of commas and line breaks; then two that
//! hold nothing that fits (a million `[`, thousands of objects of another
//! shape), read to the error. The
//! figures go to `docs/benchmarks.md`.

// A bench fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

// Only its `plan` is used here.
#[allow(dead_code)]
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use spesc::plan::types::{Type, Types};
use spesc::runtime::reading::read;

const TYPES: &str = r#"
model fast { provider = mock }
type Section { heading: string  body: string  score: float  tags: string[]  level: Level? }
enum Level { low, medium, high }
type Report { title: string  sections: Section[]  approved: bool }
workflow w() -> Report {
  step r: Report { model = fast  prompt = "Report" }
  return r
}
"#;

/// The report's JSON with about `bytes` of sections, written plainly or
/// as a model dresses it.
fn report(bytes: usize, dressed: bool) -> String {
    let mut sections = Vec::new();
    let mut size = 0;
    let mut n = 0;
    while size < bytes {
        let section = if dressed {
            format!(
                "{{heading: 'Part {n}', body: 'It\\'s about {{topic}} and \"quotes\", part {n}.', \
                 score: {}.5, tags: ['a', 'b{n}',], level: 'HIGH',}}",
                n % 10
            )
        } else {
            format!(
                "{{\"heading\": \"Part {n}\", \"body\": \"It's about {{topic}} and \\\"quotes\\\", part {n}.\", \
                 \"score\": {}.5, \"tags\": [\"a\", \"b{n}\"], \"level\": \"high\"}}",
                n % 10
            )
        };
        size += section.len() + 2;
        sections.push(section);
        n += 1;
    }
    if dressed {
        format!(
            "Sure! Here is the report:\n```json\n{{title: 'Q3', approved: 'yes', sections: [\n{}\n],}}\n```\nAnything else?",
            sections.join(",\n")
        )
    } else {
        format!(
            "{{\"title\": \"Q3\", \"approved\": true, \"sections\": [{}]}}",
            sections.join(", ")
        )
    }
}

/// Prose of about `bytes` full of `{player_name}`-like braces, then a
/// small report.
fn braces_then_report(bytes: usize) -> String {
    let mut text = String::new();
    let mut n = 0;
    while text.len() < bytes {
        text.push_str(&format!(
            "Say hello to {{player_{n}}} [see note {n}] today. "
        ));
        n += 1;
    }
    text.push_str(&report(200, false));
    text
}

/// A report whose one section's body is about `bytes` of prose left
/// unquoted, commas, quotes and line breaks in it.
fn unquoted_prose(bytes: usize) -> String {
    let mut body = String::new();
    while body.len() < bytes {
        body.push_str("This part, and \"this one\", go on,\nand on, as prose does. ");
    }
    format!(
        "{{title: Q3, approved: true, sections: [{{heading: Only, score: 1.5, tags: [], body: {body}\n}}]}}"
    )
}

/// A kind of reply, of about the size it is given.
type Reply = fn(usize) -> String;

/// Replies with nothing in them that fits, built to make a careless
/// reader slow: a million `[`, and objects that each fail the type.
fn nested(bytes: usize) -> String {
    "[".repeat(bytes)
}

fn objects_that_do_not_fit(bytes: usize) -> String {
    "{\"key\": [1, {\"a\": \"b\"}]} ".repeat(bytes / 28)
}

fn time(text: &str, ty: &Type, types: &Types, runs: usize) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let reading = read(black_box(text), ty, types);
            black_box(reading).ok();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn main() {
    // `cargo test --benches` runs this too; keep that quick.
    let runs = if std::env::args().any(|a| a == "--bench") {
        11
    } else {
        1
    };
    let plan = support::plan(TYPES);
    let ty = Type::Named("Report".into());
    let kinds: [(&str, Reply); 7] = [
        ("valid JSON", |n| report(n, false)),
        ("dressed", |n| report(n, true)),
        ("dressed, cut off", |n| {
            // Cut after a section's last field, 90% of the way in: the
            // rest of the list and every closer never arrived.
            let text = report(n, true);
            let last = "level: 'HIGH'";
            let at = text[..text.len() * 9 / 10].rfind(last).unwrap_or(0) + last.len();
            text[..at].to_string()
        }),
        ("braces in prose", braces_then_report),
        ("unquoted prose", unquoted_prose),
        ("nested `[`, no fit", nested),
        ("objects, no fit", objects_that_do_not_fit),
    ];
    for (kind, make) in kinds {
        let small = make(100_000);
        let large = make(1_000_000);
        time(&small, &ty, &plan.types, 1); // warm up
        let t_small = time(&small, &ty, &plan.types, runs);
        let t_large = time(&large, &ty, &plan.types, runs);
        for (text, t) in [(&small, t_small), (&large, t_large)] {
            println!(
                "{kind:>17}, {:>4} KB: median {:>7.2} ms, {:>6.1} MB/s",
                text.len() / 1000,
                t.as_secs_f64() * 1e3,
                text.len() as f64 / 1e6 / t.as_secs_f64()
            );
        }
        println!(
            "{kind:>17}: ratio 1 MB / 100 KB {:.1} (size ratio {:.1})",
            t_large.as_secs_f64() / t_small.as_secs_f64(),
            large.len() as f64 / small.len() as f64
        );
    }
}
