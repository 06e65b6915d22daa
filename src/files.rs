//! Reading the files a user names — `.spes` sources, imports, components,
//! `--input-file`, `--answers`, `--mock-script`, `--replay` — with one
//! rule: a regular file (after following links), no larger than its limit
//! (docs/running.md), UTF-8. A FIFO, a device or `/dev/zero` is refused
//! before anything is read, and no read grows past its limit.

use std::io::Read;
use std::path::Path;

const MIB: u64 = 1 << 20;

/// `.spes` files, their imports and component files.
pub const SOURCE_LIMIT: u64 = 16 * MIB;
/// `--input-file`, `--answers`, `--mock-script`.
pub const DATA_LIMIT: u64 = 64 * MIB;
/// `--replay` recordings, which hold every request and reply of a run.
pub const RECORDING_LIMIT: u64 = 512 * MIB;

/// The text of the file at `path`, or why it cannot be had, in words that
/// name the file.
pub fn read_text(path: &Path, limit: u64) -> Result<String, String> {
    let shown = path.display();
    let fail = |e: std::io::Error| format!("cannot read `{shown}`: {e}");
    let metadata = std::fs::metadata(path).map_err(fail)?;
    if !metadata.is_file() {
        return Err(format!("cannot read `{shown}`: not a regular file"));
    }
    let too_large = || format!("`{shown}` is larger than {} MiB", limit / MIB);
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    // The size can change between the look and the read: read no more
    // than the limit allows either way.
    std::fs::File::open(path)
        .and_then(|file| file.take(limit + 1).read_to_end(&mut bytes))
        .map_err(fail)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "`{shown}` is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused_and_limits_hold() {
        let refused = read_text(Path::new("/dev/zero"), SOURCE_LIMIT).unwrap_err();
        assert!(refused.contains("not a regular file"), "{refused}");
        let refused = read_text(Path::new("/"), SOURCE_LIMIT).unwrap_err();
        assert!(refused.contains("not a regular file"), "{refused}");

        let dir = std::env::temp_dir().join(format!("spesc-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ten.txt");
        std::fs::write(&file, "0123456789").unwrap();
        assert_eq!(read_text(&file, 10).unwrap(), "0123456789");
        let refused = read_text(&file, 9).unwrap_err();
        assert!(refused.contains("is larger than"), "{refused}");
        std::fs::write(&file, [0xff, 0xfe]).unwrap();
        assert!(read_text(&file, 10).unwrap_err().contains("not UTF-8"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
