//! `spesc explain [CODE]`: a code's page, or the list of codes.
//!
//! The pages are Markdown (`docs/errors/`). On a terminal a page is shown
//! for reading: headings in bold, code blocks indented, `code` in colour
//! and without its backticks; piped, it is the Markdown itself, for tools.

use super::{exit, usage_error};
use crate::diagnostic::Code;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A diagnostic code such as E0001 (without one: every code, with its title).
    code: Option<String>,
    /// Print the page's Markdown even on a terminal.
    #[arg(long)]
    markdown: bool,
}

/// `reading`: stdout is a terminal (or colour is forced); `color`: styles
/// may be used.
pub fn run(args: Args, reading: bool, color: bool) -> u8 {
    let Some(asked) = args.code else {
        for code in Code::ALL {
            outln!("{code}  {}", title(code.explanation()));
        }
        outln!("\nspesc explain CODE shows one in full.");
        return exit::OK;
    };
    match Code::parse(&asked) {
        Some(code) if reading && !args.markdown => {
            out!("{}", for_terminal(code.explanation(), &Styles::new(color)));
            exit::OK
        }
        Some(code) => {
            out!("{}", code.explanation());
            exit::OK
        }
        None => {
            let known: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
            usage_error(format!(
                "no diagnostic code `{asked}`; the codes are {}\n  = help: `spesc explain` lists them with their titles",
                known.join(", ")
            ))
        }
    }
}

/// `# E0001: syntax error` → `syntax error`.
fn title(page: &str) -> &str {
    let first = page.lines().next().unwrap_or("");
    first
        .split_once(": ")
        .map_or(first, |(_, title)| title)
        .trim()
}

/// Terminal styles, or none (NO_COLOR: the page still reads as text).
struct Styles {
    bold: &'static str,
    code: &'static str,
    dim: &'static str,
    reset: &'static str,
}

impl Styles {
    fn new(color: bool) -> Styles {
        if color {
            Styles {
                bold: "\x1b[1m",
                code: "\x1b[36m",
                dim: "\x1b[2m",
                reset: "\x1b[0m",
            }
        } else {
            Styles {
                bold: "",
                code: "",
                dim: "",
                reset: "",
            }
        }
    }
}

/// A Markdown page as terminal text.
fn for_terminal(page: &str, styles: &Styles) -> String {
    let Styles {
        bold,
        code,
        dim,
        reset,
    } = styles;
    let mut out = String::new();
    let mut in_block = false;
    for line in page.lines() {
        if let Some(fence) = line.strip_prefix("```") {
            in_block = !in_block;
            if in_block && !fence.trim().is_empty() {
                out.push_str(&format!("    {dim}{}{reset}\n", fence.trim()));
            }
            continue;
        }
        if in_block {
            out.push_str(&format!("    {code}{line}{reset}\n"));
        } else if let Some(heading) = line.strip_prefix("# ").or_else(|| line.strip_prefix("## ")) {
            out.push_str(&format!("{bold}{}{reset}\n", inline(heading, styles, bold)));
        } else {
            out.push_str(&inline(line, styles, ""));
            out.push('\n');
        }
    }
    out
}

/// `` `code` `` in colour without its backticks, `**bold**` in bold;
/// `after` is the style to return to.
fn inline(line: &str, styles: &Styles, after: &str) -> String {
    let Styles {
        bold, code, reset, ..
    } = styles;
    let mut out = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("{code}{part}{reset}{after}"));
        } else {
            for (j, piece) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    out.push_str(&format!("{bold}{piece}{reset}{after}"));
                } else {
                    out.push_str(piece);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_read_as_text_on_a_terminal() {
        let page = "# E0001: syntax error\n\nWrite `a = b`, **not** this.\n\n## Example\n\n```spes\nstep x\n```\n";
        let shown = for_terminal(page, &Styles::new(true));
        assert!(
            shown.starts_with("\x1b[1mE0001: syntax error\x1b[0m\n"),
            "{shown:?}"
        );
        assert!(shown.contains("Write \x1b[36ma = b\x1b[0m, \x1b[1mnot\x1b[0m this."));
        assert!(shown.contains("    \x1b[2mspes\x1b[0m\n    \x1b[36mstep x\x1b[0m\n"));
        assert!(!shown.contains("```") && !shown.contains("## "));
        let plain = for_terminal(page, &Styles::new(false));
        assert!(
            plain.starts_with("E0001: syntax error\n\nWrite a = b, not this."),
            "{plain}"
        );
    }

    #[test]
    fn titles_come_from_the_first_line() {
        assert_eq!(title("# E0001: syntax error\n\nbody"), "syntax error");
    }
}
