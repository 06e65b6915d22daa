//! A new user's first commands, against the real binary: `spesc init`,
//! shell completions and the man page, and the refusals that keep a first
//! run from doing something other than what was meant.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;

use support::binary::{folder, spesc};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn init_makes_a_project_that_checks_runs_and_tests_as_is() {
    let dir = folder("init");
    let made = spesc(&dir, &["init", "my-flow"]);
    assert_eq!(made.status.code(), Some(0), "{}", text(&made.stderr));
    let project = dir.join("my-flow");
    for file in ["flow.spes", "components/house-style.md", ".gitignore"] {
        assert!(project.join(file).is_file(), "{file} is made");
    }
    let ignored = std::fs::read_to_string(project.join(".gitignore")).unwrap();
    assert!(ignored.lines().any(|l| l == ".spes/"), "{ignored}");
    assert!(text(&made.stderr).contains("cd my-flow"));

    let check = spesc(&project, &["check", "flow.spes"]);
    assert_eq!(
        text(&check.stderr),
        "checked 1 file: no errors, 0 warnings\n"
    );
    let run = spesc(
        &project,
        &["run", "flow.spes", "--input", "topic=green tea"],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let result: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON result");
    assert!(
        result["title"].as_str().unwrap().contains("green tea"),
        "the mock's reply shows the input reaching the prompt: {result}"
    );
    let test = spesc(&project, &["test", "flow.spes"]);
    assert_eq!(test.status.code(), Some(0), "{}", text(&test.stdout));
    assert!(text(&test.stdout).ends_with("1 passed, 0 failed\n"));

    // A second `init` over it refuses, and changes nothing.
    let before = std::fs::read_to_string(project.join("flow.spes")).unwrap();
    std::fs::write(project.join("flow.spes"), "// mine\n").unwrap();
    let again = spesc(&project, &["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("not overwriting what is there: flow.spes"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(project.join("flow.spes")).unwrap(),
        "// mine\n"
    );
    assert!(before.contains("workflow summarize"));
}

#[test]
fn completions_and_the_man_page_come_from_the_cli_definition() {
    let dir = folder("generated");
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef spesc"),
        ("fish", "complete -c spesc"),
    ] {
        let out = spesc(&dir, &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        // Subcommands and their options are in it.
        assert!(
            script.contains("resume") && script.contains("mock-script"),
            "{shell}"
        );
    }
    let bad = spesc(&dir, &["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));

    let man = spesc(&dir, &["manpage"]);
    assert_eq!(man.status.code(), Some(0));
    let page = text(&man.stdout);
    assert!(page.starts_with(".ie"), "roff: {page}");
    assert!(
        page.contains(".TH spesc 1") && page.contains("spesc\\-run"),
        "{page}"
    );
}

#[test]
fn run_on_a_folder_of_several_files_refuses_and_lists_them() {
    let dir = folder("several");
    for name in ["a.spes", "b.spes"] {
        std::fs::write(
            dir.join(name),
            "model m { provider = mock }\nworkflow w() -> string {\n  step s: string { model = m  prompt = \"Hi\" }\n  return s\n}\n",
        )
        .unwrap();
    }
    let out = spesc(&dir, &["run", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: `.` holds 2 `.spes` files; name the one to use:\n  a.spes\n  b.spes\n"
    );
    assert!(out.stdout.is_empty());
    std::fs::remove_file(dir.join("b.spes")).unwrap();
    let one = spesc(&dir, &["run", "."]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
}

#[test]
fn test_says_when_there_are_no_tests() {
    let dir = folder("no-tests");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let hello = root.join("examples/hello.spes");
    let none = spesc(&dir, &["test", hello.to_str().unwrap()]);
    assert_eq!(none.status.code(), Some(1), "no tests is not a pass");
    assert!(
        text(&none.stderr).starts_with("error: no `test` blocks in "),
        "{}",
        text(&none.stderr)
    );
    let router = root.join("examples/tested_router.spes");
    let some = spesc(
        &dir,
        &["test", hello.to_str().unwrap(), router.to_str().unwrap()],
    );
    assert_eq!(some.status.code(), Some(0));
    assert!(
        text(&some.stderr).contains("hello.spes` has no `test` blocks"),
        "{}",
        text(&some.stderr)
    );
    assert!(text(&some.stdout).ends_with("3 passed, 0 failed\n"));
}
