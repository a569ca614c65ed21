//! Where a connection lives: its AMQP node URLs (several for a cluster), its vhost, and its
//! management API, derived from `--connection NAME=URL` and `--management NAME=URL`.

use std::str::FromStr;

use lapin::uri::{AMQPScheme, AMQPUri};

use crate::connection::mask;

/// One connection's broker.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The connection's name in the files (`amqp`, …).
    pub name: String,
    /// Parsed node URLs, tried in order: the first that answers is used.
    pub nodes: Vec<AMQPUri>,
    /// The URL(s) as shown to users: passwords masked.
    pub shown: String,
    /// The vhost (`%2f` in the URL is `/`).
    pub vhost: String,
    /// Management API base (`http://host:15672/api`), user and password.
    pub management: String,
    pub username: String,
    pub password: String,
}

/// A URL that cannot be used (a usage error, exit 64).
#[derive(Debug, thiserror::Error)]
#[error("connection `{name}`: {reason}")]
pub struct BadUrl {
    pub name: String,
    pub reason: String,
}

impl Endpoint {
    pub fn parse(name: &str, urls: &str, management: Option<&str>) -> Result<Endpoint, BadUrl> {
        let bad = |reason: String| BadUrl {
            name: name.to_string(),
            reason,
        };
        let mut nodes = Vec::new();
        for url in urls.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            let uri = AMQPUri::from_str(url)
                .map_err(|e| bad(format!("`{}` is not an AMQP URL: {e}", mask(url))))?;
            nodes.push(uri);
        }
        let first = nodes
            .first()
            .ok_or_else(|| bad("no URL given".to_string()))?
            .clone();
        let vhost = first.vhost.clone();
        if nodes.iter().any(|n| n.vhost != vhost) {
            return Err(bad(
                "the node URLs of one connection name different vhosts".into()
            ));
        }
        let (management, username, password) = match management {
            Some(m) => management_parts(m, &first),
            None => {
                let scheme = match first.scheme {
                    AMQPScheme::AMQPS => "https",
                    AMQPScheme::AMQP => "http",
                };
                let port = if first.scheme == AMQPScheme::AMQPS {
                    15671
                } else {
                    15672
                };
                (
                    format!("{scheme}://{}:{port}/api", first.authority.host),
                    first.authority.userinfo.username.clone(),
                    first.authority.userinfo.password.clone(),
                )
            }
        };
        Ok(Endpoint {
            name: name.to_string(),
            nodes,
            shown: mask(urls),
            vhost,
            management,
            username,
            password,
        })
    }
}

/// `http://user:pass@host:15672[/api]` → (`http://host:15672/api`, user, pass); without
/// credentials in it, the AMQP URL's are used.
fn management_parts(url: &str, amqp: &AMQPUri) -> (String, String, String) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (user, pass) = match userinfo {
        Some(u) => {
            let (user, pass) = u.split_once(':').unwrap_or((u, ""));
            (percent_decode(user), percent_decode(pass))
        }
        None => (
            amqp.authority.userinfo.username.clone(),
            amqp.authority.userinfo.password.clone(),
        ),
    };
    let path = path.trim_end_matches('/');
    let base = if path.is_empty() {
        format!("{scheme}://{host}/api")
    } else {
        format!("{scheme}://{host}/{path}")
    };
    (base, user, pass)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vhost_and_default_management() {
        let e = Endpoint::parse("amqp", "amqp://u:p%40ss@h:5672/%2f", None).unwrap();
        assert_eq!(e.vhost, "/");
        assert_eq!(e.management, "http://h:15672/api");
        assert_eq!(e.username, "u");
        assert_eq!(e.password, "p@ss");
        assert!(!e.shown.contains("p%40ss"));
        let e = Endpoint::parse("amqp", "amqp://u:p@h/shop", None).unwrap();
        assert_eq!(e.vhost, "shop");
    }

    #[test]
    fn cluster_and_explicit_management() {
        let e = Endpoint::parse(
            "amqp",
            "amqp://u:p@n1:5672/v,amqp://u:p@n2:5672/v",
            Some("https://admin:s3cret@mgmt:443/rabbit/api/"),
        )
        .unwrap();
        assert_eq!(e.nodes.len(), 2);
        assert_eq!(e.management, "https://mgmt:443/rabbit/api");
        assert_eq!(e.username, "admin");
        assert_eq!(e.password, "s3cret");
    }

    #[test]
    fn bad_urls() {
        assert!(Endpoint::parse("amqp", "", None).is_err());
        let e = Endpoint::parse("amqp", "http://u:secret@h", None).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
