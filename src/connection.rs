//! Connection settings: which URL each named connection uses, from `--connection NAME=URL`
//! or `TOPOLOGY_CONNECTION_<NAME>`, and how a URL is shown (never with its password).

use std::collections::BTreeMap;

/// The environment variable for a connection's URL (`kind` = `CONNECTION`) or management
/// URL (`kind` = `MANAGEMENT`): NAME upper-cased, `-` → `_`.
pub fn env_var(kind: &str, name: &str) -> String {
    format!(
        "TOPOLOGY_{kind}_{}",
        name.to_ascii_uppercase().replace('-', "_")
    )
}

/// A `NAME=URL` argument that is not one.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not NAME=URL")]
pub struct BadPair(pub String);

/// Parses `NAME=URL` pairs into a map (a later pair for one name wins).
pub fn parse_pairs(pairs: &[String]) -> Result<BTreeMap<String, String>, BadPair> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        match pair.split_once('=') {
            Some((name, url)) if !name.is_empty() && !url.is_empty() => {
                out.insert(name.to_string(), url.to_string());
            }
            _ => return Err(BadPair(mask(pair))),
        }
    }
    Ok(out)
}

/// The URL with the password replaced by `***`. Works on several comma-separated URLs and
/// on text that merely contains URLs (error messages).
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| {
                c == '/'
                    || c == ','
                    || c.is_whitespace()
                    || c == '"'
                    || c == '\''
                    || c == '`'
                    || c == ')'
            })
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// URLs per connection: flags first, then the environment for names the flags do not give.
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords_everywhere() {
        assert_eq!(
            mask("amqp://u:secret@h:5672/%2f"),
            "amqp://u:***@h:5672/%2f"
        );
        assert_eq!(mask("amqp://h/v"), "amqp://h/v");
        assert_eq!(mask("amqp://u@h"), "amqp://u@h");
        assert_eq!(
            mask("a amqp://u:p@x,amqps://v:q@y/z b"),
            "a amqp://u:***@x,amqps://v:***@y/z b"
        );
        assert_eq!(mask("amqp://u:p%40ss@h"), "amqp://u:***@h");
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
        let m = parse_pairs(&["amqp=amqp://h".into()]).unwrap();
        assert_eq!(m["amqp"], "amqp://h");
        assert!(parse_pairs(&["nope".into()]).is_err());
        let e = parse_pairs(&["amqp://u:pw@h".into()]).unwrap_err();
        assert!(!e.to_string().contains("pw"));
    }
}
