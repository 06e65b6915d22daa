//! The editor's messages over stdin and stdout, framed by
//! `Content-Length`. lsp-server's own stdio transport allocates whatever
//! length a header names, so a header claiming terabytes would abort the
//! server; this one refuses a message over [`MAX_MESSAGE`], skips its body
//! and goes on with the next.

use std::io::{self, BufRead, Read, Write};
use std::thread::JoinHandle;

use lsp_server::{Connection, Message};

/// The longest message accepted: far above any document a person edits.
pub const MAX_MESSAGE: usize = 64 << 20;

/// A connection to the editor on stdin and stdout, and the threads that
/// move its messages.
pub fn stdio() -> (Connection, [JoinHandle<()>; 2]) {
    let (server, editor) = Connection::memory();
    let Connection { sender, receiver } = editor;
    let reader = std::thread::spawn(move || {
        let mut input = io::stdin().lock();
        loop {
            match read(&mut input) {
                Ok(Some(message)) => {
                    let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                    if sender.send(message).is_err() || exit {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    eprintln!("spesc lsp: {e}");
                    if e.kind() != io::ErrorKind::InvalidData {
                        return;
                    }
                }
            }
        }
    });
    let writer = std::thread::spawn(move || {
        let mut output = io::stdout().lock();
        for message in receiver {
            if message
                .write(&mut output)
                .and_then(|()| output.flush())
                .is_err()
            {
                return;
            }
        }
    });
    (server, [reader, writer])
}

/// The next message; an `InvalidData` error for one refused (the stream
/// is then past it).
fn read(input: &mut impl BufRead) -> io::Result<Option<Message>> {
    let mut headers = String::new();
    let mut length = None;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<u64>().ok();
            }
        }
        headers.push_str(&line);
    }
    let Some(length) = length else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a message without a valid Content-Length",
        ));
    };
    if length > MAX_MESSAGE as u64 {
        io::copy(&mut input.take(length), &mut io::sink())?;
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("refused a message of {length} bytes (at most {MAX_MESSAGE} are read)"),
        ));
    }
    let mut body = Vec::new();
    input.take(length).read_to_end(&mut body)?;
    let framed = format!("Content-Length: {}\r\n\r\n", body.len());
    let mut whole = io::Cursor::new([framed.as_bytes(), &body].concat());
    Message::read(&mut whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_length_is_refused_and_the_next_message_read() {
        let ok = r#"{"jsonrpc":"2.0","method":"exit"}"#;
        let stream = format!(
            "Content-Length: 99999999999999\r\n\r\nxyz\r\n\r\nContent-Length: {}\r\n\r\n{ok}",
            ok.len()
        );
        let mut input = io::Cursor::new(stream.into_bytes());
        let refused = read(&mut input).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::InvalidData);
        assert!(refused.to_string().contains("99999999999999"));
        // The skipped body ran to the end of this input: nothing is left.
        assert!(read(&mut input).unwrap().is_none());

        let stream = format!("Content-Length: {}\r\n\r\n{ok}", ok.len());
        let read = read(&mut io::Cursor::new(stream.into_bytes())).unwrap();
        assert!(matches!(read, Some(Message::Notification(n)) if n.method == "exit"));
    }
}
