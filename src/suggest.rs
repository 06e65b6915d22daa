//! `did you mean` suggestions by edit distance.

/// Up to three candidates close to `name`, closest first. "Close" allows
/// about one edit per three characters, and at least one; a plural is as
/// close as its singular (`retries` → `retry`).
pub fn similar<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let singular = singular(name);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            let plural = singular.as_deref().map_or(usize::MAX, |s| distance(s, c));
            (distance(name, c).min(plural), c)
        })
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort();
    scored.dedup();
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// The English singular of a plural-looking word: `retries` → `retry`,
/// `matches` → `match`, `models` → `model`.
fn singular(word: &str) -> Option<String> {
    if let Some(stem) = word.strip_suffix("ies") {
        return Some(format!("{stem}y"));
    }
    if let Some(stem) = ["ches", "shes", "sses", "xes"]
        .iter()
        .find_map(|suffix| word.strip_suffix(suffix).map(|_| &word[..word.len() - 2]))
    {
        return Some(stem.to_string());
    }
    word.strip_suffix('s')
        .filter(|stem| !stem.ends_with('s'))
        .map(String::from)
}

/// `word` with its indefinite article: `an agent`, `a model`, ``an `int` ``
/// (by its first letter: good enough for the words of a diagnostic).
pub fn a(word: &str) -> String {
    let first = word.trim_start_matches('`').chars().next().unwrap_or('x');
    let article = if "aeiouAEIOU".contains(first) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

/// `` `a`, `b` or `c` ``
pub fn one_of(names: &[&str]) -> String {
    listed(names, "or")
}

/// `` `a`, `b` and `c` ``
pub fn all_of(names: &[&str]) -> String {
    listed(names, "and")
}

fn listed(names: &[&str], conjunction: &str) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}

/// The `help` line for an unknown name: `` did you mean `a` or `b`? ``, or
/// `None` when nothing is close.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let close = similar(name, candidates);
    (!close.is_empty()).then(|| format!("did you mean {}?", one_of(&close)))
}

/// Edit distance over characters, case-insensitive, where swapping two
/// neighbours counts as one edit (`modle` is one edit from `model`).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    // d[i][j]: distance between the first i chars of a and the first j of b.
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_follow_the_first_letter() {
        assert_eq!(a("agent"), "an agent");
        assert_eq!(a("model"), "a model");
        assert_eq!(a("`int`"), "an `int`");
        assert_eq!(a("`string`"), "a `string`");
    }

    #[test]
    fn a_plural_suggests_its_singular() {
        assert_eq!(similar("retries", ["retry", "prompt"]), ["retry"]);
        assert_eq!(similar("matches", ["match", "model"]), ["match"]);
        assert_eq!(similar("models", ["model"]), ["model"]);
        assert_eq!(singular("class"), None);
    }

    #[test]
    fn suggests_close_names_only() {
        let names = ["prompt", "system", "model", "timeout"];
        assert_eq!(similar("promt", names), vec!["prompt"]);
        assert_eq!(similar("modle", names), vec!["model"]);
        assert_eq!(similar("timeuot", names), vec!["timeout"]);
        assert!(similar("zzzzzz", names).is_empty());
    }

    #[test]
    fn at_most_three_closest_first() {
        let names = ["ab", "abc", "abcd", "abd", "abe"];
        assert_eq!(similar("abx", names), vec!["ab", "abc", "abd"]);
    }

    #[test]
    fn lists_read_naturally() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
