//! What the providers (and `fetch`) share: one JSON exchange, the
//! `Retry-After` wait, and the error classes of HTTP statuses. Nothing here puts a URL or a header in an error: a base URL
//! may carry credentials, a header does.

use serde_json::Value;

use super::provider::CallError;

/// POSTs `body` as JSON and gives back the reply's JSON. A failed status
/// becomes its error class ([`classify`]) with the provider's own message,
/// found at `error_at` (a JSON pointer) in the error body.
pub async fn exchange(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    body: &Value,
    error_at: &str,
) -> Result<Value, CallError> {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .map_err(|e| CallError::Server(format!("no answer: {}", describe(&e))))?;
    let status = response.status().as_u16();
    let wait = retry_after_ms(response.headers());
    let text = response
        .text()
        .await
        .map_err(|e| CallError::Server(format!("the reply broke off: {}", describe(&e))))?;
    if !(200..300).contains(&status) {
        return Err(classify(status, &error_message(&text, error_at), wait));
    }
    serde_json::from_str(&text)
        .map_err(|e| CallError::Server(format!("the reply is not JSON: {e}")))
}

/// `Retry-After` in milliseconds, when given in seconds.
pub fn retry_after_ms(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|seconds| (seconds * 1000.0) as u64)
}

/// A failed status as an error class: 429 (and "overloaded") wait and try
/// again, 5xx try again, anything else is permanent. `message` is the
/// provider's own words.
pub fn classify(status: u16, message: &str, retry_after_ms: Option<u64>) -> CallError {
    let overloaded = message.to_lowercase().contains("overloaded");
    match status {
        429 => CallError::RateLimit { retry_after_ms },
        500..=599 if overloaded => CallError::RateLimit { retry_after_ms },
        500..=599 => CallError::Server(format!("HTTP {status}: {message}")),
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
            classify(401, "bad key", None),
            CallError::Permanent("HTTP 401: bad key".into())
        );
        assert_eq!(
            error_message(r#"{"error": {"message": "m"}}"#, "/error/message"),
            "m"
        );
        assert_eq!(error_message("plain", "/error/message"), "plain");
    }
}
