//! Sizes in bytes as people write them (`16MiB`) and read them.

/// `16MiB`, `512KiB`, `1000000`: a size in bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let scale: u64 = match text[split..].trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => {
            return Err(format!(
                "`{text}` is not a size (write `512KiB`, `16MiB`, `1GiB` or bytes)"
            ))
        }
    };
    text[..split]
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a size above zero"))
}

/// A size in words (`32 MiB`, `1500 bytes`).
pub fn show_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_and_show_in_binary_units() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("1500"), Ok(1500));
        assert!(parse_size("12MB").is_err() && parse_size("0").is_err());
        assert!(parse_size("99999999999GiB").is_err());
        assert_eq!(show_size(32 << 20), "32 MiB");
        assert_eq!(show_size(1500), "1500 bytes");
    }
}
