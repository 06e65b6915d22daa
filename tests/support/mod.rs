//! What the provider tests share: a real HTTP server on 127.0.0.1 that
//! answers as told (whole replies, streams with pauses, stalls, dropped
//! connections) and keeps every request it was sent.

#![allow(dead_code)]

pub mod binary;
pub mod journal;
pub mod run;
pub mod spec;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// How the server answers one request.
#[derive(Clone, Debug)]
pub enum Answer {
    /// A whole reply.
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// A stream: the events one by one, `pause` apart, then `stall` of
    /// silence before the connection closes.
    Stream {
        content_type: &'static str,
        events: Vec<String>,
        pause: Duration,
        stall: Duration,
    },
    /// Waits, then answers.
    Slow(Duration, Box<Answer>),
    /// Reads the request and closes the connection without a word.
    Drop,
}

impl Answer {
    pub fn json(status: u16, body: impl Into<String>) -> Answer {
        Answer::Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.into(),
        }
    }

    pub fn with_header(self, name: &'static str, value: &str) -> Answer {
        match self {
            Answer::Reply {
                status,
                mut headers,
                body,
            } => {
                headers.push((name, value.to_string()));
                Answer::Reply {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }

    /// A stream that ends as soon as its last event is sent.
    pub fn stream(content_type: &'static str, events: Vec<String>) -> Answer {
        Answer::Stream {
            content_type,
            events,
            pause: Duration::from_millis(5),
            stall: Duration::ZERO,
        }
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

pub struct Server {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Starts a server that gives `answers` in order, one per connection
    /// (each answered on its own thread, so a stalled answer does not hold
    /// up the next), then stops listening.
    pub fn start(answers: Vec<Answer>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for answer in answers {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                let (request, stream) = read_request(stream);
                log.lock().expect("the log").push(request);
                std::thread::spawn(move || answer_with(stream, &answer));
            }
        });
        Server { url, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("the log").clone()
    }
}

fn read_request(stream: TcpStream) -> (Seen, TcpStream) {
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    let _ = reader.read_line(&mut first);
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let length = headers
        .get("content-length")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let seen = Seen {
        method,
        path,
        headers,
        body,
    };
    (seen, reader.into_inner())
}

fn answer_with(mut stream: TcpStream, answer: &Answer) {
    match answer {
        Answer::Reply {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            let _ = stream.write_all(format!("{head}\r\n{body}").as_bytes());
        }
        Answer::Stream {
            content_type,
            events,
            pause,
            stall,
        } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            for event in events {
                let _ = stream.write_all(event.as_bytes());
                let _ = stream.flush();
                std::thread::sleep(*pause);
            }
            std::thread::sleep(*stall);
        }
        Answer::Slow(delay, then) => {
            std::thread::sleep(*delay);
            answer_with(stream, then);
        }
        Answer::Drop => {}
    }
}
