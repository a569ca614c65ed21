//! Secrets: a password type that never prints its value, and the process-wide list of
//! secrets that every output path (`app::out`, `app::err`) replaces by `***`.
//!
//! The list is the safety net behind [`Secret`]: passwords are registered where they enter
//! the program (command-line arguments, environment variables, connection URLs), generously
//! (every string that might be one, raw, percent-decoded and escaped), so that a password
//! is masked even in text that nobody thought could hold one, and even when its URL does not
//! parse.

use std::borrow::Cow;
use std::fmt;
use std::sync::{PoisonError, RwLock};

use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// A password. Its `Debug` prints `***`; it has no `Display`; [`Secret::expose`] gives the
/// value to the code that sends it to a broker.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The password itself: only for handing it to a connection.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// For clap (`--client-cert-password`).
impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

/// What a redacted secret is replaced by.
pub const MASK: &str = "***";

/// Secrets shorter than this are not redacted from output: replacing every `ab` would
/// mangle the output, and such a password protects nothing anyway.
pub const MIN_LEN: usize = 4;

/// The secrets to redact, longest first (so that a secret containing another is replaced
/// whole).
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Whether no secret is registered: output may then be streamed without redaction.
pub fn none_registered() -> bool {
    SECRETS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .is_empty()
}

/// Adds a secret to the redaction list, with the forms it takes when escaped in JSON or in
/// Rust's `Debug`.
pub fn register(secret: &str) {
    let mut forms = vec![secret.to_string()];
    let json = serde_json::to_string(secret).expect("a string serializes");
    forms.push(json[1..json.len() - 1].to_string());
    let debug = format!("{secret:?}");
    forms.push(debug[1..debug.len() - 1].to_string());
    let mut list = SECRETS.write().unwrap_or_else(PoisonError::into_inner);
    let before = list.len();
    for form in forms {
        if form.chars().count() >= MIN_LEN && !list.contains(&form) {
            list.push(form);
        }
    }
    if list.len() != before {
        list.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }
}

/// Registers every password that `text` (a URL, several comma-separated, a `NAME=URL` pair,
/// or anything else) might hold, whether it parses or not: see [`passwords_in`]. Each is
/// registered as written, percent-decoded, and percent-encoded (as AMQP clients and the
/// `url` crate write it).
pub fn register_in_urls(text: &str) {
    for candidate in passwords_in(text) {
        register(&candidate);
        let decoded = percent_decode_str(&candidate)
            .decode_utf8_lossy()
            .into_owned();
        register(&decoded);
        register(&utf8_percent_encode(&decoded, NON_ALPHANUMERIC).to_string());
        let mut url = url::Url::parse("amqp://user@host").expect("a valid URL");
        if url.set_password(Some(&decoded)).is_ok()
            && let Some(encoded) = url.password()
        {
            register(encoded);
        }
    }
}

/// Every string of `text` that may be a URL's password, generously: after each `://`, the
/// text after the first `:` up to each `@` that follows (the real userinfo ends at one of
/// them, even when the password holds an unencoded `/`, `@`, `#`, `?`, `,` or space).
pub fn passwords_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (start, _) in text.match_indices("://") {
        let rest = &text[start + 3..];
        for (at, _) in rest.match_indices('@') {
            if let Some((_, password)) = rest[..at].split_once(':')
                && !password.is_empty()
                && !out.iter().any(|p| p == password)
            {
                out.push(password.to_string());
            }
        }
    }
    out
}

/// `text` with every registered secret replaced by `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let list = SECRETS.read().unwrap_or_else(PoisonError::into_inner);
    let mut out = Cow::Borrowed(text);
    for secret in list.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), MASK));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2-debug");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(***)");
        assert_eq!(s.expose(), "hunter2-debug");
    }

    #[test]
    fn candidates_cover_unencoded_reserved_characters() {
        let p = passwords_in("amqp://u:Zq/7@k:%Lm#?Rt y@host/v");
        assert!(p.contains(&"Zq/7".to_string()), "{p:?}");
        assert!(p.contains(&"Zq/7@k:%Lm#?Rt y".to_string()), "{p:?}");
        let p = passwords_in("amqp=amqp://u:AbC/dEf+gh==@host/vhost");
        assert_eq!(p, vec!["AbC/dEf+gh==".to_string()]);
        let p = passwords_in("amqp://a:one@n1/v,amqps://b:two@n2/v");
        assert!(p.contains(&"one".to_string()) && p.contains(&"two".to_string()));
        assert!(passwords_in("amqp://u@h/v").is_empty());
        assert!(passwords_in("no url here: a@b").is_empty());
    }

    #[test]
    fn redacts_every_form() {
        register_in_urls("amqp://u:Xk%2F9%40q%23wz@h/v,amqp://u:Pl@in!Pass word@h2/v");
        let out = redact("a Xk/9@q#wz b Xk%2F9%40q%23wz c Pl@in!Pass word d Pl%40in%21Pass%20word");
        assert_eq!(out, "a *** b *** c *** d ***");
        register("Quo\"te\\Pw");
        assert_eq!(redact(r#"{"m":"Quo\"te\\Pw"}"#), r#"{"m":"***"}"#);
        // Too short to redact without mangling the output.
        register("xq");
        assert_eq!(redact("xq"), "xq");
        // (Other tests of this process register secrets too: this text holds none.)
        assert!(matches!(redact("0 1 2 3"), Cow::Borrowed(_)));
    }
}
