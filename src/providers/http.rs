//! The only place a model call meets the network: one JSON `POST`
//! ([`send`]), the reply read whole or as a stream ([`read`]), the
//! provider's wait before a retry, and the error classes of HTTP statuses
//! (which `fetch` shares). Nothing here puts a URL or a header in an
//! error: a base URL may carry credentials, a header does.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{CallError, Framing, Provider, Reply, Request, Streamed};

/// A provider's answer as it came over the wire: what `--record` keeps
/// and `--replay` gives back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Raw {
    pub status: u16,
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    pub body: String,
}

/// Sends `request` and reads the whole answer, at most `limit` bytes of
/// it. With `idle`, the answer's head and every chunk of its body must
/// come within that time: a stream that stalls fails with a timeout
/// instead of hanging. `on_chunk` sees each piece of the body as it
/// arrives (a streamed reply, shown while it streams).
pub async fn send(
    client: &reqwest::Client,
    request: &Request,
    idle: Option<Duration>,
    limit: u64,
    on_chunk: &mut dyn FnMut(&[u8]),
) -> Result<Raw, CallError> {
    let mut builder = client
        .post(&request.url)
        .header("content-type", "application/json")
        .body(request.body.to_string());
    for (name, value) in request.headers.iter().chain(&request.secret) {
        builder = builder.header(*name, value);
    }
    let mut response = within(idle, builder.send())
        .await?
        .map_err(|e| unanswered(&request.url, &e))?;
    let headers = response.headers();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let status = response.status().as_u16();
    let retry_after_ms = retry_after_ms(headers);
    let body = read_body(&mut response, idle, limit, on_chunk).await?;
    Ok(Raw {
        status,
        content_type,
        retry_after_ms,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The body of `response` as it arrives, each piece shown to `on_chunk`,
/// refused as soon as it holds more than `limit` bytes (a server may send
/// without end).
pub async fn read_body(
    response: &mut reqwest::Response,
    idle: Option<Duration>,
    limit: u64,
    on_chunk: &mut dyn FnMut(&[u8]),
) -> Result<Vec<u8>, CallError> {
    let too_big = || {
        CallError::Permanent(format!(
            "the answer is over {} (`--max-response-size`)",
            crate::lang::size::show_size(limit)
        ))
    };
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = within(idle, response.chunk())
        .await?
        .map_err(|e| failed("the reply broke off", &e))?
    {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_big());
        }
        on_chunk(&chunk);
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `future`, or a timeout error when `idle` passes first.
async fn within<F: std::future::Future>(
    idle: Option<Duration>,
    future: F,
) -> Result<F::Output, CallError> {
    match idle {
        None => Ok(future.await),
        Some(limit) => tokio::time::timeout(limit, future).await.map_err(|_| {
            CallError::Timeout(format!(
                "nothing arrived for {} ms (`idle_timeout`)",
                limit.as_millis()
            ))
        }),
    }
}

/// A request that got no answer. A connection that could not be made
/// names where it went (without the query, which may hold a key), and for
/// a server on this machine, that it may not be running.
fn unanswered(url: &str, error: &reqwest::Error) -> CallError {
    if !error.is_connect() {
        return failed("no answer", error);
    }
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return failed("no answer", error);
    };
    let host = parsed.host_str().unwrap_or_default();
    let place = format!(
        "{}://{host}{}{}",
        parsed.scheme(),
        parsed.port().map(|p| format!(":{p}")).unwrap_or_default(),
        parsed.path()
    );
    let local = matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1");
    let hint = if local {
        "; nothing is listening there: is the local server running? \
         (`scripts/local-model.sh start` starts the one the examples use)"
    } else {
        ""
    };
    CallError::Server(format!("no answer from {place}: {}{hint}", describe(error)))
}

/// A transport error as its class, in words without the URL.
fn failed(what: &str, error: &reqwest::Error) -> CallError {
    let message = format!("{what}: {}", describe(error));
    if error.is_timeout() {
        CallError::Timeout(message)
    } else if error.is_builder() {
        CallError::Permanent(message)
    } else {
        CallError::Server(message)
    }
}

/// The provider's reply in a raw answer: a failed status as its error
/// class with the provider's own message, a stream event by event
/// (`stream` asked for one and the server did not answer plain JSON), or
/// one JSON body.
pub fn read(provider: &dyn Provider, raw: &Raw, stream: bool) -> Result<Reply, CallError> {
    if !(200..300).contains(&raw.status) {
        let wait = raw.retry_after_ms.or_else(|| retry_delay_ms(&raw.body));
        let message = error_message(&raw.body, provider.error_at());
        return Err(classify(raw.status, &message, wait));
    }
    if stream && !raw.content_type.starts_with("application/json") {
        return read_stream(provider, &raw.body);
    }
    let value: Value = serde_json::from_str(&raw.body)
        .map_err(|e| CallError::Server(format!("the reply is not JSON: {e}")))?;
    provider.read_reply(&value)
}

/// A streamed reply: SSE `data:` lines or NDJSON lines, each one event.
fn read_stream(provider: &dyn Provider, body: &str) -> Result<Reply, CallError> {
    let mut stream = StreamReader::new(provider);
    stream.feed(body.as_bytes())?;
    stream.feed(b"\n")?;
    stream.streamed.finish()
}

/// A streamed reply read as its bytes arrive: the text so far, event by
/// event (a line may arrive in pieces, a character split between them).
pub struct StreamReader<'p> {
    provider: &'p dyn Provider,
    pending: Vec<u8>,
    streamed: Streamed,
}

impl<'p> StreamReader<'p> {
    pub fn new(provider: &'p dyn Provider) -> Self {
        StreamReader {
            provider,
            pending: Vec::new(),
            streamed: Streamed::default(),
        }
    }

    /// The reply's text so far.
    pub fn text(&self) -> &str {
        &self.streamed.text
    }

    /// Reads every complete line of what has arrived.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), CallError> {
        self.pending.extend_from_slice(bytes);
        let Some(end) = self.pending.iter().rposition(|&b| b == b'\n') else {
            return Ok(());
        };
        let lines: Vec<u8> = self.pending.drain(..=end).collect();
        for line in String::from_utf8_lossy(&lines).lines() {
            self.line(line)?;
        }
        Ok(())
    }

    fn line(&mut self, line: &str) -> Result<(), CallError> {
        let data = match self.provider.framing() {
            Framing::Sse => match line.strip_prefix("data:") {
                Some(data) => data.trim(),
                None => return Ok(()),
            },
            Framing::Ndjson => line.trim(),
        };
        if data.is_empty() {
            return Ok(());
        }
        if data == "[DONE]" {
            self.streamed.finished = true;
            return Ok(());
        }
        let event: Value = serde_json::from_str(data)
            .map_err(|e| CallError::Server(format!("a streamed event is not JSON: {e}")))?;
        self.provider.read_event(&event, &mut self.streamed)
    }
}

/// How long the provider asks us to wait: `Retry-After` (seconds, or an
/// HTTP date), else OpenAI's `x-ratelimit-reset-*` durations (`1s`,
/// `6m0s`, `20ms`), the longest of them. (The runtime caps what it waits.)
pub fn retry_after_ms(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(value) = text("retry-after") {
        if let Ok(seconds) = value.trim().parse::<f64>() {
            // `as` saturates: a huge or negative number is a huge or no wait.
            return Some((seconds * 1000.0) as u64);
        }
        if let Some(at) = http_date(value) {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            return Some(at.saturating_sub(now).saturating_mul(1000));
        }
    }
    ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]
        .into_iter()
        .filter_map(|name| text(name).and_then(duration_ms))
        .max()
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, the form RFC 9110 has
/// servers send) in seconds since 1970.
fn http_date(text: &str) -> Option<u64> {
    let mut parts = text.trim().split_ascii_whitespace();
    let (_weekday, day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if zone != "GMT" || parts.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let mut clock = time.split(':').map(|n| n.parse::<i64>().ok());
    let (h, m, s) = (clock.next()??, clock.next()??, clock.next()??);
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Days from 1970-01-01 to the date (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + m * 60 + s).ok()
}

/// Gemini says how long to wait in its error body:
/// `error.details[].retryDelay` (`"30s"`).
fn retry_delay_ms(body: &str) -> Option<u64> {
    let value: Value = serde_json::from_str(body).ok()?;
    value
        .pointer("/error/details")?
        .as_array()?
        .iter()
        .find_map(|d| d["retryDelay"].as_str().and_then(duration_ms))
}

/// A duration like `1s`, `6m0s`, `1.5s`, `20ms` in milliseconds.
fn duration_ms(text: &str) -> Option<u64> {
    let mut total = 0.0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..split].parse().ok()?;
        rest = &rest[split..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 1.0,
            "s" => 1000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    Some(total as u64)
}

/// A failed status as an error class: 429 (and "overloaded") wait and try
/// again, 5xx try again, 408 (the server gave up waiting for the request)
/// is a timeout, anything else is permanent. `message` is the provider's
/// own words.
pub fn classify(status: u16, message: &str, retry_after_ms: Option<u64>) -> CallError {
    let overloaded = message.to_lowercase().contains("overloaded");
    match status {
        429 => CallError::RateLimit { retry_after_ms },
        500..=599 if overloaded => CallError::RateLimit { retry_after_ms },
        500..=599 => CallError::Server(format!("HTTP {status}: {message}")),
        408 => CallError::Timeout(format!("HTTP 408: {message}")),
        _ => CallError::Permanent(format!("HTTP {status}: {message}")),
    }
}

/// The provider's error message at `pointer` in a JSON body, else the
/// body's start.
pub fn error_message(body: &str, pointer: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.pointer(pointer).and_then(Value::as_str).map(String::from))
        .unwrap_or_else(|| body.chars().take(200).collect())
}

/// What went wrong with a request, in words without the URL.
pub fn describe(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection refused or unreachable"
    } else {
        "the connection failed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds_or_as_an_http_date() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after_ms(&headers), Some(2000));
        headers.insert("retry-after", "999999999".parse().unwrap());
        assert_eq!(retry_after_ms(&headers), Some(999_999_999_000));
        // A date in the past: no wait.
        headers.insert(
            "retry-after",
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_ms(&headers), Some(0));
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            http_date("Tue, 29 Feb 2028 12:00:00 GMT"),
            Some(1_835_438_400)
        );
        assert_eq!(http_date("tomorrow"), None);
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
    }

    #[test]
    fn statuses_are_classified_with_the_providers_words() {
        assert_eq!(
            classify(429, "", Some(2000)),
            CallError::RateLimit {
                retry_after_ms: Some(2000)
            }
        );
        assert_eq!(
            classify(529, "Overloaded", None),
            CallError::RateLimit {
                retry_after_ms: None
            }
        );
        assert_eq!(
            classify(503, "down", None),
            CallError::Server("HTTP 503: down".into())
        );
        assert_eq!(
            classify(408, "request timeout", None),
            CallError::Timeout("HTTP 408: request timeout".into())
        );
        assert_eq!(
            classify(401, "bad key", None),
            CallError::Permanent("HTTP 401: bad key".into())
        );
        assert_eq!(
            error_message(r#"{"error": {"message": "m"}}"#, "/error/message"),
            "m"
        );
        assert_eq!(error_message("plain", "/error/message"), "plain");
    }

    #[test]
    fn waits_come_from_retry_after_reset_headers_or_gemini_bodies() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-ratelimit-reset-requests", "1s".parse().unwrap());
        headers.insert("x-ratelimit-reset-tokens", "6m0s".parse().unwrap());
        assert_eq!(retry_after_ms(&headers), Some(360_000));
        headers.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after_ms(&headers), Some(2000));
        assert_eq!(duration_ms("1.5s"), Some(1500));
        assert_eq!(duration_ms("20ms"), Some(20));
        assert_eq!(duration_ms("soon"), None);
        let gemini = r#"{"error": {"code": 429, "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}]}}"#;
        assert_eq!(retry_delay_ms(gemini), Some(30_000));
    }
}
