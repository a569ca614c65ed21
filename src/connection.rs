//! Connection settings: which URL each named connection uses, from `--connection NAME=URL`
//! or `TOPOLOGY_CONNECTION_<NAME>`, how a URL is checked (a URL that does not parse is never
//! echoed: the error says which part is wrong), and how a URL is shown (never with its
//! password). Every URL read here has its passwords registered for redaction
//! ([`crate::secret`]).

use std::collections::BTreeMap;
use std::fmt;

use percent_encoding::percent_decode_str;
use url::Url;

use crate::secret;

/// The environment variable for a connection's URL (`kind` = `CONNECTION`) or management
/// URL (`kind` = `MANAGEMENT`): NAME upper-cased, `-` → `_`.
pub fn env_var(kind: &str, name: &str) -> String {
    format!(
        "TOPOLOGY_{kind}_{}",
        name.to_ascii_uppercase().replace('-', "_")
    )
}

/// A `--connection` or `--management` argument that cannot be used (a usage error). It holds
/// what may be shown of the argument, never a password.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadPair(pub String);

/// Parses `--{flag} NAME=URL` pairs into a map. The passwords of every pair are registered
/// for redaction first. A name given twice, or one that is not in `known` (the connections
/// the files use), is refused.
pub fn parse_pairs(
    pairs: &[String],
    flag: &str,
    known: &[String],
) -> Result<BTreeMap<String, String>, BadPair> {
    let not_a_pair = |what: String| BadPair(format!("a --{flag} value is not NAME=URL: {what}"));
    let mut out = BTreeMap::new();
    for pair in pairs {
        secret::register_in_urls(pair);
        match pair.split_once('=') {
            Some((name, url)) if !name.is_empty() && !url.is_empty() && !name.contains("://") => {
                if out.insert(name.to_string(), url.to_string()).is_some() {
                    return Err(BadPair(format!(
                        "--{flag} {name}=… is given twice: give each connection once (several nodes of a cluster: one value, comma-separated)"
                    )));
                }
                if !known.iter().any(|k| k == name) {
                    return Err(BadPair(format!(
                        "--{flag} {name}=…: {}",
                        unknown_connection(name, known)
                    )));
                }
            }
            Some(("", _)) => return Err(not_a_pair("a value has no NAME before `=`".into())),
            Some((name, "")) if !name.contains("://") => {
                return Err(not_a_pair(format!("`{name}=` has no URL")));
            }
            _ if pair.contains("://") => return Err(not_a_pair(format!("`{}`", mask(pair)))),
            _ => {
                return Err(not_a_pair(
                    "(the value is not shown: it may hold a password)".into(),
                ));
            }
        }
    }
    Ok(out)
}

/// The part of a URL that is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlPart {
    Scheme,
    Userinfo,
    Host,
    Port,
    Vhost,
    Query,
}

/// What is wrong with a URL, in words that never quote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlProblem {
    pub part: UrlPart,
    /// E.g. "its port is not a number from 0 to 65535".
    pub why: String,
}

/// How to write reserved characters in a URL's user name and password.
pub const PERCENT_ENCODE_HINT: &str = "percent-encode reserved characters in the user name and \
     password: `/` → `%2F`, `@` → `%40`, `#` → `%23`, `?` → `%3F`, `%` → `%25`, `:` → `%3A`, \
     `,` → `%2C`, space → `%20`";

impl fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.why)?;
        match self.part {
            // A password with an unencoded reserved character shows up as any of these.
            UrlPart::Userinfo | UrlPart::Host | UrlPart::Port | UrlPart::Vhost => {
                write!(f, "; {PERCENT_ENCODE_HINT}")
            }
            UrlPart::Scheme | UrlPart::Query => Ok(()),
        }
    }
}

/// Checks a URL strictly, then parses it with `url`. `schemes`: those accepted (lower
/// case), any when empty. Refused, rather than read in a way the user did not mean: an `@`
/// after the host (a `/`, `?` or `#` in the password cut it short, and `url` would take part
/// of the password for the host), a fragment, a `%` not followed by two hex digits, a port
/// that is not a number, control characters. The problem never quotes the URL.
pub fn check_url(text: &str, schemes: &[&str]) -> Result<Url, UrlProblem> {
    let bad = |part: UrlPart, why: &str| UrlProblem {
        part,
        why: why.to_string(),
    };
    let expected = if schemes.is_empty() {
        "a URL scheme".to_string()
    } else {
        schemes
            .iter()
            .map(|s| format!("`{s}://`"))
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(bad(
            UrlPart::Scheme,
            &format!("it does not start with {expected}"),
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    let scheme_syntax = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_syntax || (!schemes.is_empty() && !schemes.contains(&scheme.as_str())) {
        return Err(bad(
            UrlPart::Scheme,
            &format!("its scheme is not {expected}"),
        ));
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    if tail.contains('@') {
        return Err(bad(
            UrlPart::Userinfo,
            "it has an `@` after the host: the user name or password holds a `/`, `?` or `#` \
             that is not percent-encoded (or the vhost an `@`)",
        ));
    }
    let (userinfo, host_port) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    if let Some(userinfo) = userinfo {
        check_encoded(userinfo, UrlPart::Userinfo, "the user name or password")?;
    }
    if tail.contains('#') {
        return Err(bad(
            UrlPart::Vhost,
            "it has a `#` after the host (a fragment): write `#` in a vhost as `%23`",
        ));
    }
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let Some(end) = v6.find(']') else {
            return Err(bad(UrlPart::Host, "its IPv6 host has no closing `]`"));
        };
        let after = &v6[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => {
                return Err(bad(
                    UrlPart::Port,
                    "its port is not a number from 0 to 65535",
                ));
            }
        };
        (&host_port[..end + 2], port)
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err(bad(UrlPart::Host, "it has no host"));
    }
    check_encoded(host, UrlPart::Host, "the host")?;
    if let Some(port) = port
        && !port.is_empty()
        && (!port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err())
    {
        return Err(bad(
            UrlPart::Port,
            "its port is not a number from 0 to 65535",
        ));
    }
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    check_encoded(path, UrlPart::Vhost, "the vhost (the path)")?;
    if let Some(query) = query {
        check_encoded(query, UrlPart::Query, "the query string")?;
    }
    Url::parse(text).map_err(|e| {
        let part = match e {
            url::ParseError::InvalidPort => UrlPart::Port,
            url::ParseError::RelativeUrlWithoutBase
            | url::ParseError::RelativeUrlWithCannotBeABaseBase
            | url::ParseError::SetHostOnCannotBeABaseUrl => UrlPart::Scheme,
            _ => UrlPart::Host,
        };
        UrlProblem {
            part,
            why: format!("it is not a valid URL ({e})"),
        }
    })
}

/// A part of a URL: no control character, every `%` followed by two hex digits, UTF-8 once
/// decoded.
fn check_encoded(text: &str, part: UrlPart, what: &str) -> Result<(), UrlProblem> {
    let bad = |why: String| Err(UrlProblem { part, why });
    if text.chars().any(char::is_control) {
        return bad(format!(
            "{what} holds a control character (tab, newline, …)"
        ));
    }
    if part == UrlPart::Host && text.contains(' ') {
        return bad(format!("{what} holds a space"));
    }
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices('%') {
        let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
        if !(hex(i + 1) && hex(i + 2)) {
            return bad(format!("a `%` in {what} is not followed by two hex digits"));
        }
    }
    if percent_decode_str(text).decode_utf8().is_err() {
        return bad(format!("{what} is not UTF-8 once percent-decoded"));
    }
    Ok(())
}

/// A URL, or several comma-separated (a cluster), as shown on purpose (the plan's header):
/// each password replaced by `***`. A URL that does not pass [`check_url`] is not shown at
/// all: which part of it is the password cannot be told.
pub fn mask(urls: &str) -> String {
    urls.split(',')
        .map(|part| {
            let url = part.trim();
            if url.is_empty() {
                return String::new();
            }
            match check_url(url, &[]) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        parsed
                            .set_password(Some(secret::MASK))
                            .expect("a URL with a host takes a password");
                    }
                    parsed.to_string()
                }
                Err(_) => "(a URL that is not valid: not shown)".to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Why `name` names no connection of the files: a near miss suggested, the known names
/// listed.
pub fn unknown_connection(name: &str, known: &[String]) -> String {
    let used = if known.is_empty() {
        "the files use no connection".to_string()
    } else {
        format!(
            "the files use {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let names: Vec<&str> = known.iter().map(String::as_str).collect();
    let hint = crate::diagnostic::suggest(name, &names)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    format!("no file uses a connection named `{name}`{hint}; {used}")
}

/// URLs per connection: flags first, then the environment for names the flags do not give.
/// The passwords of every URL are registered for redaction.
pub fn resolve(
    flags: &BTreeMap<String, String>,
    names: &[String],
    kind: &str,
) -> BTreeMap<String, String> {
    let mut out = flags.clone();
    for name in names {
        if out.contains_key(name) {
            continue;
        }
        if let Ok(url) = std::env::var(env_var(kind, name))
            && !url.is_empty()
        {
            out.insert(name.clone(), url);
        }
    }
    for url in out.values() {
        secret::register_in_urls(url);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Passwords that users paste unencoded: generated ones with `/`, `+`, `=`, and worse.
    pub(crate) const NASTY: [&str; 3] = ["Zq/7@k:%Lm#?Rt y", "AbC/dEf+gh==", "p@ss w0rd,x"];

    pub(crate) fn encoded(password: &str) -> String {
        percent_encoding::utf8_percent_encode(password, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
    }

    /// Neither the password nor a 4-character piece of it.
    pub(crate) fn assert_hidden(text: &str, password: &str) {
        let chars: Vec<char> = password.chars().collect();
        for piece in chars.windows(4) {
            let piece: String = piece.iter().collect();
            assert!(
                !text.contains(&piece),
                "`{piece}` of the password in: {text}"
            );
        }
    }

    #[test]
    fn masks_passwords_everywhere() {
        assert_eq!(
            mask("amqp://u:secret@h:5672/%2f"),
            "amqp://u:***@h:5672/%2f"
        );
        assert_eq!(mask("amqp://h/v"), "amqp://h/v");
        assert_eq!(mask("amqp://u@h"), "amqp://u@h");
        assert_eq!(
            mask("amqp://u:p@x,amqps://v:q@y/z"),
            "amqp://u:***@x,amqps://v:***@y/z"
        );
        assert_eq!(mask("amqp://u:p%40ss@h"), "amqp://u:***@h");
        assert_eq!(
            mask("https://admin:s3cret@mgmt:443/api"),
            "https://admin:***@mgmt/api"
        );
    }

    #[test]
    fn masks_nasty_passwords_encoded_or_not() {
        for password in NASTY {
            let raw = format!("amqp://user:{password}@rabbit.local:5672/shop");
            let enc = format!("amqp://user:{}@rabbit.local:5672/shop", encoded(password));
            assert_eq!(mask(&enc), "amqp://user:***@rabbit.local:5672/shop");
            let masked = mask(&raw);
            assert_hidden(&masked, password);
            assert_hidden(&mask(&format!("{raw},{enc}")), password);
        }
        // Unencoded but unambiguous: `@` and space inside the authority.
        assert_eq!(mask("amqp://user:p@ss w0rd@h/v"), "amqp://user:***@h/v");
    }

    #[test]
    fn reserved_characters_in_the_password_are_refused_not_misread() {
        for password in NASTY {
            let raw = format!("amqp://user:{password}@rabbit.local:5672/shop");
            if password == "p@ss w0rd,x" {
                continue; // its `,` splits a cluster list: see the endpoint tests
            }
            let e = check_url(&raw, &["amqp", "amqps"]).unwrap_err();
            assert_eq!(e.part, UrlPart::Userinfo, "{password}: {e}");
            let shown = e.to_string();
            assert!(shown.contains("`/` → `%2F`"), "{shown}");
            assert_hidden(&shown, password);
            let enc = format!("amqp://user:{}@rabbit.local:5672/shop", encoded(password));
            let url = check_url(&enc, &["amqp"]).unwrap();
            assert_eq!(url.host_str(), Some("rabbit.local"));
            let decoded = percent_decode_str(url.password().unwrap())
                .decode_utf8()
                .unwrap();
            assert_eq!(decoded, password);
        }
    }

    #[test]
    fn each_wrong_part_is_named() {
        let part = |u: &str| check_url(u, &["amqp", "amqps"]).unwrap_err().part;
        assert_eq!(part("rabbit.local:5672"), UrlPart::Scheme);
        assert_eq!(part("http://u:p@h/v"), UrlPart::Scheme);
        assert_eq!(part("amqp://u:Zq/7"), UrlPart::Port);
        assert_eq!(part("amqp://u:p@h:56x2/v"), UrlPart::Port);
        assert_eq!(part("amqp://u:p@h:99999/v"), UrlPart::Port);
        assert_eq!(part("amqp://u:p@/v"), UrlPart::Host);
        assert_eq!(part("amqp://u:p@h st/v"), UrlPart::Host);
        assert_eq!(part("amqp://u:50%off@h/v"), UrlPart::Userinfo);
        assert_eq!(part("amqp://u:a\tb@h/v"), UrlPart::Userinfo);
        assert_eq!(part("amqp://u:ab#cd@h/v"), UrlPart::Userinfo);
        assert_eq!(part("amqp://u:ab?cd@h/v"), UrlPart::Userinfo);
        assert_eq!(part("amqp://u:p@h/v#frag"), UrlPart::Vhost);
        assert_eq!(part("amqp://u:p@h/100%"), UrlPart::Vhost);
        assert_eq!(part("amqp://u:p@h/v?heartbeat=%zz"), UrlPart::Query);
        assert_eq!(part("amqp://u:p@[::1/v"), UrlPart::Host);
        assert!(check_url("amqp://u:p@[::1]:5672/v?heartbeat=10", &["amqp"]).is_ok());
        assert!(check_url("AMQPS://u:p@h", &["amqp", "amqps"]).is_ok());
    }

    #[test]
    fn env_names() {
        assert_eq!(
            env_var("CONNECTION", "my-conn"),
            "TOPOLOGY_CONNECTION_MY_CONN"
        );
    }

    #[test]
    fn pairs() {
        let known = ["amqp".to_string(), "events".to_string()];
        let parse = |pairs: &[String]| parse_pairs(pairs, "connection", &known);
        let m = parse(&["amqp=amqp://h".into()]).unwrap();
        assert_eq!(m["amqp"], "amqp://h");
        assert!(parse(&["nope".into()]).is_err());
        let e = parse(&["amqp://u:pw@h".into()]).unwrap_err();
        assert!(!e.to_string().contains("pw"), "{e}");
        for password in NASTY {
            let e = parse(&[format!("amqp://user:{password}@h/v")]).unwrap_err();
            assert_hidden(&e.to_string(), password);
            // `=` in an unencoded password, no NAME: not taken for NAME=URL.
            let e = parse(&[format!("amqp://user:x={password}@h/v")]).unwrap_err();
            assert_hidden(&e.to_string(), password);
        }
        let m = parse(&["amqp=amqp://u:a=b@h".into()]).unwrap();
        assert_eq!(m["amqp"], "amqp://u:a=b@h");
    }

    /// A name no file uses, and a name given twice, are usage errors that say what to do.
    #[test]
    fn unknown_and_repeated_names() {
        let known = ["amqp".to_string(), "events".to_string()];
        let e = parse_pairs(&["evnets=amqp://u:pw@h".into()], "connection", &known)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no file uses a connection named `evnets`")
                && e.contains("did you mean `events`?")
                && e.contains("the files use `amqp`, `events`"),
            "{e}"
        );
        assert!(!e.contains("pw"), "{e}");
        let e = parse_pairs(
            &["amqp=amqp://h1".into(), "amqp=amqp://u:secret@h2".into()],
            "management",
            &known,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("--management amqp=… is given twice"), "{e}");
        assert!(!e.contains("secret"), "{e}");
    }
}
