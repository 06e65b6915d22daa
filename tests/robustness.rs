//! The parser and the checker never panic, and every failure is a
//! diagnostic with a valid span: fed every prefix of every example and a few
//! thousand seeded random single-character edits.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use spesc::check::{check, NoFiles};
use spesc::diagnostic::{render, Diagnostic};
use spesc::source::SourceMap;

fn examples() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .expect("examples folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "spes"))
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect();
    texts.sort();
    texts
}

/// Parses and checks `text`; checks every diagnostic's spans; renders them.
fn assert_well_formed(text: &str) {
    let mut sources = SourceMap::new();
    let file = sources.add("input.spes", text);
    let roots = [(file, "input.spes".into())];
    let diagnostics: Vec<Diagnostic> =
        check(&mut sources, &roots, &NoFiles, &Default::default()).diagnostics;
    for d in &diagnostics {
        assert!(
            d.primary_span().is_some(),
            "{text:?}: no primary label: {d:?}"
        );
        for label in &d.labels {
            let (start, end) = (label.span.start as usize, label.span.end as usize);
            assert!(
                start <= end && end <= text.len(),
                "{text:?}: span out of range: {d:?}"
            );
            assert!(
                text.is_char_boundary(start) && text.is_char_boundary(end),
                "{text:?}: span splits a character: {d:?}"
            );
        }
    }
    // Rendering must not panic either.
    let _ = render::rich(&sources, &diagnostics, false);
    let _ = render::short(&sources, &diagnostics);
}

#[test]
fn every_prefix_of_every_example() {
    for text in examples() {
        for (end, _) in text.char_indices() {
            assert_well_formed(&text[..end]);
        }
    }
}

/// xorshift64*: a tiny deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Characters that matter to the grammar, plus a few that do not.
const ALPHABET: &[char] = &[
    '{', '}', '(', ')', '[', ']', '"', '\\', '%', '=', ':', ',', '.', '|', '?', '!', '<', '>', '/',
    '\n', ' ', 'a', 'z', '0', '9', '_', '-', '+', '*', 'é', '\t',
];

#[test]
fn seeded_random_single_character_edits() {
    let texts = examples();
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    for _ in 0..3000 {
        let text = &texts[rng.below(texts.len())];
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let at = boundaries[rng.below(boundaries.len())];
        let c = ALPHABET[rng.below(ALPHABET.len())];
        let next = text[at..].chars().next().map_or(0, char::len_utf8);
        let edited = match rng.below(3) {
            0 => format!("{}{c}{}", &text[..at], &text[at + next..]),
            1 => format!("{}{c}{}", &text[..at], &text[at..]),
            _ => format!("{}{}", &text[..at], &text[at + next..]),
        };
        assert_well_formed(&edited);
    }
}

#[test]
fn pathological_inputs() {
    for text in [
        String::new(),
        "\u{feff}".to_string(),
        "\"".to_string(),
        "\"\"\"".to_string(),
        "{".repeat(10_000),
        "}".repeat(10_000),
        format!(
            "workflow w() -> int {{ let x = {}1{} return x }}",
            "(".repeat(5_000),
            ")".repeat(5_000)
        ),
        format!(
            "workflow w() -> int {{ let x = {}1 return x }}",
            "-".repeat(5_000)
        ),
        format!("component c = \"{}\"", "{% if x %}".repeat(2_000)),
        "workflow w() { step s: string { prompt = \"é{{ é }}\" } }".to_string(),
        "\0\u{1}\u{7f}".to_string(),
    ] {
        assert_well_formed(&text);
    }
}

/// Parses and checks `text` on its own thread, failing if that takes more
/// than a generous `budget`: nesting costs time in proportion to its size,
/// so 200 levels take milliseconds (an exponential parse took 17 s for 20).
fn well_formed_within(text: String, budget: std::time::Duration) {
    let (done, finished) = std::sync::mpsc::channel();
    let size = text.len();
    std::thread::spawn(move || {
        assert_well_formed(&text);
        let _ = done.send(());
    });
    assert!(
        finished.recv_timeout(budget).is_ok(),
        "a {size}-byte nested input took over {budget:?} to check"
    );
}

#[test]
fn nested_blocks_parse_in_linear_time() {
    let depth = 200;
    let nested = |open: &str, close: &str| {
        format!(
            "workflow w(c: bool, xs: int[], k: int) -> int {{ let v = {}1{} return v }}",
            open.repeat(depth),
            close.repeat(depth)
        )
    };
    for text in [
        nested("if c { ", " } else { 2 }"),
        nested("if c { 1 } else if c { ", " }"),
        nested("match k { 1 => { ", " } _ => 2 }"),
        nested("match k { 1 => ", ", _ => 2 }"),
        nested("len(for x in xs { ", " })"),
        // The same, each block's value wrong: recovery is linear too.
        nested("if c { @ ", " } else { 2 }"),
        nested("if c {\n let = 1\n ", "\n} else { 2 }"),
    ] {
        well_formed_within(text, std::time::Duration::from_secs(20));
    }
}

/// Each bad line is parsed again to say what is wrong with it; that must
/// cost the line, not the rest of the file (64,000 took minutes).
#[test]
fn sixty_four_thousand_bad_lines_are_reported_in_linear_time() {
    let lines = 32_000;
    let items: String = (0..lines).map(|i| format!("type T{i} = x\n")).collect();
    let statements: String = (0..lines).map(|i| format!("  let v{i} = @ ;\n")).collect();
    let text = format!("{items}workflow w() -> int {{\n{statements}  1\n}}\n");
    well_formed_within(text, std::time::Duration::from_secs(60));
}

/// Nesting the parse tree keeps flat still nests the AST: each construct
/// has a limit with a diagnostic, and `run` refuses what `check` does
/// (10,000 nested `{% if %}` passed `check` and crashed `run`; 50,000
/// crashed both, as did 50,000 `?` or `[]` and 3,000 nested calls).
#[test]
fn every_construct_has_a_depth_limit_that_check_and_run_share() {
    let dir = std::env::temp_dir().join(format!("spesc-depth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let step = |ty: &str, prompt: &str| {
        format!(
            "model m {{ provider = mock }}\n\
             workflow w(c: bool) -> {ty} {{\n  step s: {ty} {{ model = m  prompt = \"\"\"\n{prompt}\n\"\"\" }}\n  return s\n}}\n"
        )
    };
    let tags = |n: usize| format!("{}x{}", "{% if c %}".repeat(n), "{% end %}".repeat(n));
    let mut calls: String = "model m { provider = mock }\n".into();
    for i in 0..3000 {
        calls += &format!(
            "workflow w{i}(c: bool) -> int {{ step y: int = call w{}(c = c) return y }}\n",
            i + 1
        );
    }
    calls +=
        "workflow w3000(c: bool) -> int { step s: int { model = m  prompt = \"x\" } return s }\n";
    let only = &[][..];
    let cases = [
        (
            "tags_10k",
            step("string", &tags(10_000)),
            only,
            "template tags nested too deeply",
        ),
        (
            "tags_50k",
            step("string", &tags(50_000)),
            only,
            "template tags nested too deeply",
        ),
        (
            "optional",
            step(&format!("string{}", "?".repeat(50_000)), "x"),
            only,
            "type nested too deeply",
        ),
        (
            "lists",
            step(&format!("string{}", "[]".repeat(50_000)), "x"),
            only,
            "type nested too deeply",
        ),
        (
            "calls",
            calls,
            &["--workflow", "w0"][..],
            "calls nest 3000 deep from `w0`",
        ),
    ];
    for (name, text, choose, message) in cases {
        let file = dir.join(format!("{name}.spes"));
        std::fs::write(&file, &text).unwrap();
        well_formed_within(text, std::time::Duration::from_secs(60));
        let run: Vec<&str> = ["run", "--input", "c=true"]
            .into_iter()
            .chain(choose.iter().copied())
            .collect();
        // `check` exits 1 for a file with errors; `run` refuses it with 2.
        for (command, code) in [(vec!["check"], 1), (run, 2)] {
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_spesc"))
                .args(&command)
                .arg(&file)
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(code),
                "{name} {command:?}: {stderr}"
            );
            assert!(stderr.contains(message), "{name} {command:?}: {stderr}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
