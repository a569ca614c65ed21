//! Where a connection lives: its AMQP node URLs (several for a cluster), its vhost, and its
//! management API, derived from `--connection NAME=URL` and `--management NAME=URL`.
//!
//! Every URL is checked with [`check_url`] before lapin or anything else reads it, so that a
//! URL that does not parse is never echoed, and one whose password holds an unencoded `/`,
//! `#` or `?` is refused rather than sent to some other host.

use std::fmt;
use std::str::FromStr;

use lapin::uri::{AMQPScheme, AMQPUri};
use percent_encoding::percent_decode_str;

use crate::connection::{check_url, mask};
use crate::secret::{self, Secret};

/// One connection's broker. Its `Debug` shows no password (nor the parsed node URLs,
/// which hold one).
#[derive(Clone)]
pub struct Endpoint {
    /// The connection's name in the files (`amqp`, …).
    pub name: String,
    /// Parsed node URLs, tried in order: the first that answers is used. All `amqps` or all
    /// `amqp`.
    pub nodes: Vec<AMQPUri>,
    /// The URL(s) as shown to users: passwords masked.
    pub shown: String,
    /// The vhost (`%2f` in the URL is `/`).
    pub vhost: String,
    /// Management API bases (`http://host:15672/api`), one per node, tried in order; user
    /// and password.
    pub management: Vec<String>,
    pub username: String,
    pub password: Secret,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("shown", &self.shown)
            .field("vhost", &self.vhost)
            .field("management", &self.management)
            .field("username", &self.username)
            .field("password", &self.password)
            .finish_non_exhaustive()
    }
}

/// A URL that cannot be used (a usage error, exit 64).
#[derive(Debug, thiserror::Error)]
#[error("connection `{name}`: {reason}")]
pub struct BadUrl {
    pub name: String,
    pub reason: String,
}

impl Endpoint {
    /// `urls`: one AMQP URL, or several comma-separated (a cluster's nodes, all with TLS or
    /// all without); `management`: the management API's URL, if not the default one.
    pub fn parse(name: &str, urls: &str, management: Option<&str>) -> Result<Endpoint, BadUrl> {
        secret::register_in_urls(urls);
        if let Some(m) = management {
            secret::register_in_urls(m);
        }
        let bad = |reason: String| BadUrl {
            name: name.to_string(),
            reason,
        };
        let given: Vec<&str> = urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        let mut nodes = Vec::new();
        for (i, url) in given.iter().enumerate() {
            let which = if given.len() > 1 {
                format!("the URL of node {} (of {})", i + 1, given.len())
            } else {
                "the URL".to_string()
            };
            let not_shown = "(the URL is not shown: it may hold a password)";
            let parsed = check_url(url, &["amqp", "amqps"])
                .map_err(|p| bad(format!("{which} is not valid: {p} {not_shown}")))?;
            let mut uri = AMQPUri::from_str(url).map_err(|_| {
                bad(format!(
                    "{which} is not valid: its query string is not (frame_max, channel_max, \
                     heartbeat and connection_timeout take a number; auth_mechanism a SASL \
                     mechanism such as PLAIN or EXTERNAL) {not_shown}"
                ))
            })?;
            // lapin reads the host with `Url::domain`, which is None for an IPv6 address.
            if let Some(url::Host::Ipv6(address)) = parsed.host() {
                uri.authority.host = address.to_string();
            }
            nodes.push(uri);
        }
        let first = nodes
            .first()
            .ok_or_else(|| bad("no URL given".to_string()))?
            .clone();
        if nodes.iter().any(|n| n.scheme != first.scheme) {
            return Err(bad(
                "its node URLs mix `amqps://` and `amqp://`: the nodes of a cluster must all \
                 use TLS or none, and a password is not sent in plain text to some of them"
                    .into(),
            ));
        }
        let vhost = first.vhost.clone();
        if nodes.iter().any(|n| n.vhost != vhost) {
            return Err(bad(
                "the node URLs of one connection name different vhosts".into()
            ));
        }
        let (management, username, password) = match management {
            // Several management URLs (one per cluster node), comma-separated: tried in order.
            Some(m) => {
                let mut bases = Vec::new();
                let mut credentials = None;
                for url in m.split(',').map(str::trim).filter(|u| !u.is_empty()) {
                    let (base, user, pass) = management_parts(url, &first).map_err(&bad)?;
                    bases.push(base);
                    credentials.get_or_insert((user, pass));
                }
                let (user, pass) =
                    credentials.ok_or_else(|| bad("no management URL given".to_string()))?;
                (bases, user, pass)
            }
            // One per AMQP node, so that the management API fails over as AMQP does.
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
                let mut bases: Vec<String> = Vec::new();
                for node in &nodes {
                    let host = &node.authority.host;
                    let host = if host.contains(':') {
                        format!("[{host}]")
                    } else {
                        host.clone()
                    };
                    let base = format!("{scheme}://{host}:{port}/api");
                    if !bases.contains(&base) {
                        bases.push(base);
                    }
                }
                (
                    bases,
                    first.authority.userinfo.username.clone(),
                    Secret::new(first.authority.userinfo.password.clone()),
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
fn management_parts(url: &str, amqp: &AMQPUri) -> Result<(String, String, Secret), String> {
    let parsed = check_url(url.trim(), &["http", "https"]).map_err(|p| {
        format!(
            "the management URL is not valid: {p} (the URL is not shown: it may hold a password)"
        )
    })?;
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let (user, pass) = if parsed.username().is_empty() && parsed.password().is_none() {
        (
            amqp.authority.userinfo.username.clone(),
            Secret::new(amqp.authority.userinfo.password.clone()),
        )
    } else {
        (
            decode(parsed.username()),
            Secret::new(decode(parsed.password().unwrap_or(""))),
        )
    };
    let host = parsed.host_str().unwrap_or_default();
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = parsed.path().trim_matches('/');
    let path = if path.is_empty() { "api" } else { path };
    Ok((
        format!("{}://{host}{port}/{path}", parsed.scheme()),
        user,
        pass,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::connection::tests::{NASTY, assert_hidden, encoded};

    /// A cluster's management API fails over as AMQP does: one URL per node by default, or
    /// the comma-separated list given (credentials from the first that has some).
    #[test]
    fn cluster_management_urls() {
        let e = Endpoint::parse("amqp", "amqp://u:p@n1:5672/v,amqp://u:p@n2:5673/v", None).unwrap();
        assert_eq!(e.management, ["http://n1:15672/api", "http://n2:15672/api"]);
        let e = Endpoint::parse(
            "amqp",
            "amqp://u:p@n1/v",
            Some("http://admin:s3cret@m1:15672, http://m2:15672"),
        )
        .unwrap();
        assert_eq!(e.management, ["http://m1:15672/api", "http://m2:15672/api"]);
        assert_eq!(e.username, "admin");
        assert_eq!(e.password.expose(), "s3cret");
    }

    #[test]
    fn vhost_and_default_management() {
        let e = Endpoint::parse("amqp", "amqp://u:p%40ss@h:5672/%2f", None).unwrap();
        assert_eq!(e.vhost, "/");
        assert_eq!(e.management, ["http://h:15672/api"]);
        assert_eq!(e.username, "u");
        assert_eq!(e.password.expose(), "p@ss");
        assert!(!e.shown.contains("p%40ss"));
        let e = Endpoint::parse("amqp", "amqp://u:p@h/shop", None).unwrap();
        assert_eq!(e.vhost, "shop");
        let e = Endpoint::parse("amqp", "amqps://u:p@[::1]:5671/shop", None).unwrap();
        assert_eq!(e.nodes[0].authority.host, "::1");
        assert_eq!(e.management, ["https://[::1]:15671/api"]);
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
        assert_eq!(e.management, ["https://mgmt/rabbit/api"]);
        assert_eq!(e.username, "admin");
        assert_eq!(e.password.expose(), "s3cret");
        let e = Endpoint::parse("amqp", "amqp://u:p@n1/v", Some("http://mgmt:15673?x=1")).unwrap();
        assert_eq!(e.management, ["http://mgmt:15673/api"]);
        assert_eq!((e.username.as_str(), e.password.expose()), ("u", "p"));
        let e = Endpoint::parse(
            "amqp",
            "amqp://u:p@n1/v",
            Some("http://admin:%2F%40%23x@mgmt:15672"),
        )
        .unwrap();
        assert_eq!(e.password.expose(), "/@#x");
    }

    #[test]
    fn nasty_passwords_percent_encoded_are_read_exactly() {
        for password in NASTY {
            let url = format!("amqp://user:{}@rabbit.local:5672/shop", encoded(password));
            let e = Endpoint::parse("amqp", &url, None).unwrap();
            assert_eq!(e.password.expose(), password);
            assert_eq!(e.nodes[0].authority.userinfo.password, password);
            assert_eq!(e.nodes[0].authority.host, "rabbit.local");
            assert_eq!(e.vhost, "shop");
            assert_eq!(e.shown, "amqp://user:***@rabbit.local:5672/shop");
            assert_hidden(&format!("{e:?}"), password);
            assert_hidden(&format!("{:?}", e.password), password);
            let m = format!("http://admin:{}@mgmt:15672/api", encoded(password));
            let e = Endpoint::parse("amqp", &url, Some(&m)).unwrap();
            assert_eq!(e.password.expose(), password);
        }
    }

    #[test]
    fn nasty_passwords_not_encoded_are_refused_unseen() {
        for password in NASTY {
            for url in [
                format!("amqp://user:{password}@rabbit.local:5672/shop"),
                format!("amqp://user:{password}@rabbit.local/shop,amqp://user:{password}@n2/shop"),
            ] {
                let e = Endpoint::parse("amqp", &url, None).unwrap_err();
                let shown = e.to_string();
                assert!(shown.starts_with("connection `amqp`: the URL"), "{shown}");
                assert!(shown.contains("percent-encode"), "{shown}");
                assert_hidden(&shown, password);
            }
            let m = format!("http://admin:{password}@mgmt:15672/api");
            match Endpoint::parse("amqp", "amqp://u:p@h/v", Some(&m)) {
                Err(e) => {
                    assert!(e.to_string().contains("management URL"), "{e}");
                    assert_hidden(&e.to_string(), password);
                }
                // One URL, no `/`, `?` or `#` in the password: `@`, `,` and space are
                // unambiguous, and read as written.
                Ok(e) => {
                    assert!(!password.contains(['/', '?', '#']), "{password}");
                    assert_eq!(e.password.expose(), password);
                    assert_eq!(e.management, ["http://mgmt:15672/api"]);
                }
            }
        }
        // Not connecting to `user` on port `Zq`, nor to `k`.
        let e = Endpoint::parse("amqp", "amqp://user:Zq/7@k/v", None).unwrap_err();
        assert!(e.to_string().contains("`@` after the host"), "{e}");
        let e = Endpoint::parse("amqp", "amqp://user:Zq/7", None).unwrap_err();
        assert!(e.to_string().contains("port"), "{e}");
    }

    #[test]
    fn mixed_tls_cluster_is_refused() {
        let e = Endpoint::parse(
            "amqp",
            "amqps://u:Sekr1tPw@n1:5671/v,amqp://u:Sekr1tPw@n2:5672/v",
            None,
        )
        .unwrap_err();
        let shown = e.to_string();
        assert!(shown.contains("connection `amqp`"), "{shown}");
        assert!(shown.contains("mix `amqps://` and `amqp://`"), "{shown}");
        assert!(!shown.contains("Sekr1tPw"), "{shown}");
        assert!(Endpoint::parse("amqp", "amqps://u:p@n1/v,amqps://u:p@n2/v", None).is_ok());
    }

    #[test]
    fn bad_urls() {
        assert!(Endpoint::parse("amqp", "", None).is_err());
        let e = Endpoint::parse("amqp", "http://u:secret@h", None).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(e.to_string().contains("scheme"), "{e}");
        let e = Endpoint::parse("amqp", "amqp://u:secret@h/v?heartbeat=x", None).unwrap_err();
        assert!(e.to_string().contains("query"), "{e}");
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
