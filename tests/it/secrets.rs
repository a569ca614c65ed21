//! Passwords with reserved characters, typed percent-encoded or not, given with
//! `--connection` or in `TOPOLOGY_CONNECTION_AMQP`, never appear in any output of `lint`,
//! `plan` or `apply` (human or JSON), whatever happens: a URL that does not parse (64), a
//! wrong password (69), a closed port (69), a cluster mixing TLS and plain text (64), the
//! right password (0). Against the real RabbitMQ on 127.0.0.1 (scripts/test.sh); each test
//! has a vhost of its own, and the user created for it is deleted afterwards.

use crate::util;

use crate::util::{Output, Vhost, assert_contains, run_in};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;

/// Generated passwords as users paste them: `/ @ : % # ?` and a space; `/ + =`.
const PASSWORDS: [&str; 2] = ["Zq/7@k:%Lm#?Rt y", "AbC/dEf+gh=="];
const FIXTURE: &str = "fixtures/retry-triple";

fn encoded(password: &str) -> String {
    utf8_percent_encode(password, NON_ALPHANUMERIC).to_string()
}

/// The password as `url` writes it (only what it must encode).
fn url_encoded(password: &str) -> String {
    let mut url = url::Url::parse("amqp://u@h").unwrap();
    url.set_password(Some(password)).unwrap();
    url.password().unwrap().to_string()
}

/// Neither the password, raw or encoded, nor any 4 characters of it, in stdout or stderr.
fn assert_hidden(out: &Output, password: &str, what: &str) {
    let text = format!("{}\n{}", out.stdout, out.stderr);
    for form in [
        password.to_string(),
        encoded(password),
        url_encoded(password),
    ] {
        assert!(!text.contains(&form), "{what}: `{form}` shown:\n{text}");
        let chars: Vec<char> = form.chars().collect();
        let width = if form == password { 4 } else { 6 };
        for piece in chars.windows(width) {
            let piece: String = piece.iter().collect();
            assert!(
                !text.contains(&piece),
                "{what}: `{piece}` of the password shown:\n{text}"
            );
        }
    }
}

/// How a URL reaches the binary.
#[derive(Clone, Copy, Debug)]
enum Given {
    Flag,
    Env,
}

/// Runs `args` with `url` as connection `amqp`, given as a flag or in the environment.
fn run_with(given: Given, args: &[&str], url: &str) -> Output {
    let pair = format!("amqp={url}");
    match given {
        Given::Flag => run_in(
            &util::root(),
            &[args, &["--connection", &pair]].concat(),
            &[],
        ),
        Given::Env => run_in(&util::root(), args, &[("TOPOLOGY_CONNECTION_AMQP", url)]),
    }
}

/// `plan`, `plan --format json`, `apply`, `apply --format json`, `import` with `url`, flag
/// and environment: each exits `code`, and shows nothing of `password`. Returns the outputs.
fn check_every_command(
    url: &str,
    password: &str,
    extra: &[&str],
    code: i32,
    what: &str,
) -> Vec<Output> {
    let mut outputs = Vec::new();
    for given in [Given::Flag, Given::Env] {
        for command in [
            &["plan", FIXTURE][..],
            &["plan", FIXTURE, "--format", "json"],
            &["apply", FIXTURE],
            &["apply", FIXTURE, "--format", "json"],
            &["import"],
        ] {
            let args = [command, &["--timeout", "5"], extra].concat();
            let out = run_with(given, &args, url);
            let what = format!("{what}, {given:?}, {}", command.join(" "));
            assert_eq!(out.code, code, "{what}:\n{}\n{}", out.stdout, out.stderr);
            assert_hidden(&out, password, &what);
            outputs.push(out);
        }
    }
    outputs
}

/// A RabbitMQ user of one test, with permissions on its vhost; deleted when dropped.
struct User<'a> {
    name: String,
    vhost: &'a Vhost,
}

impl<'a> User<'a> {
    fn create(vhost: &'a Vhost, password: &str) -> User<'a> {
        let user = User {
            name: format!("{}-user", vhost.name),
            vhost,
        };
        user.set_tags(password, "");
        let r = vhost.request(
            "PUT",
            &format!("/permissions/{{vhost}}/{}", user.name),
            json!({"configure": ".*", "write": ".*", "read": ".*"}),
        );
        assert!(r.is_null(), "permissions: {r}");
        user
    }

    fn set_tags(&self, password: &str, tags: &str) {
        let r = self.vhost.request(
            "PUT",
            &format!("/users/{}", self.name),
            json!({"password": password, "tags": tags}),
        );
        assert!(r.is_null(), "user: {r}");
    }
}

impl Drop for User<'_> {
    fn drop(&mut self) {
        self.vhost
            .request("DELETE", &format!("/users/{}", self.name), json!({}));
    }
}

/// Typed without percent-encoding, the password makes the URL unparsable: 64, the
/// connection named, the URL not echoed, whatever the rest of the URL.
#[test]
fn unencoded_passwords_are_refused_unseen() {
    let v = Vhost::new("secrets-raw");
    for password in PASSWORDS {
        for url in [
            format!("amqp://guest:{password}@127.0.0.1:5672/{}", v.name),
            format!("amqp://guest:{password}@127.0.0.1:1/{}", v.name),
            format!(
                "amqp://guest:{password}@127.0.0.1:5672/{0},amqp://guest:{password}@127.0.0.1:5672/{0}",
                v.name
            ),
        ] {
            for out in check_every_command(&url, password, &[], 64, "unencoded") {
                assert!(
                    out.stderr.contains("connection `amqp`")
                        && out.stderr.contains("percent-encode"),
                    "{}",
                    out.stderr
                );
            }
        }
    }
}

/// Percent-encoded, wrong: the broker refuses (69); a closed port (69).
#[test]
fn wrong_password_and_closed_port_are_69_unseen() {
    let v = Vhost::new("secrets-69");
    for password in PASSWORDS {
        let wrong = format!(
            "amqp://guest:{}@127.0.0.1:5672/{}",
            encoded(password),
            v.name
        );
        for out in check_every_command(&wrong, password, &[], 69, "wrong password") {
            assert_contains(&out.stderr, "ACCESS_REFUSED");
        }
        let closed = format!("amqp://guest:{}@127.0.0.1:1/{}", encoded(password), v.name);
        for out in check_every_command(&closed, password, &[], 69, "closed port") {
            assert_contains(&out.stderr, "refused");
        }
    }
}

/// A cluster whose nodes mix amqps:// and amqp:// is refused (64) before any connection.
#[test]
fn mixed_tls_cluster_is_64_unseen() {
    let v = Vhost::new("secrets-mixed");
    for password in PASSWORDS {
        let url = format!(
            "amqps://guest:{0}@127.0.0.1:5671/{1},amqp://guest:{0}@127.0.0.1:5672/{1}",
            encoded(password),
            v.name
        );
        for out in check_every_command(&url, password, &[], 64, "mixed cluster") {
            assert!(
                out.stderr.contains("connection `amqp`")
                    && out.stderr.contains("mix `amqps://` and `amqp://`"),
                "{}",
                out.stderr
            );
        }
    }
}

/// The right password, percent-encoded, connects: plan and apply work (the AMQP side with
/// the user's password; the management API, which a user without tags may not read, as
/// guest), and the password is still never shown. Then, with the user an administrator,
/// the management API is read with the user's (decoded) password too.
#[test]
fn right_password_percent_encoded_connects_unseen() {
    let v = Vhost::new("secrets-ok");
    let password = PASSWORDS[0];
    let user = User::create(&v, password);
    let url = format!(
        "amqp://{}:{}@127.0.0.1:5672/{}",
        user.name,
        encoded(password),
        v.name
    );
    let guest_management = ["--management", "amqp=http://guest:guest@127.0.0.1:15672"];
    let outputs = check_every_command(&url, password, &guest_management, 0, "right password");
    assert_contains(
        &outputs[0].stdout,
        &format!("amqp://{}:***@127.0.0.1:5672/", user.name),
    );
    assert_eq!(outputs[1].json()["changes"].as_array().unwrap().len(), 9);
    let defs = v.definitions();
    assert_eq!(defs["queues"].as_array().unwrap().len(), 3, "{defs}");
    // The unencoded form of the same URL is refused, not misread.
    let raw = url.replace(&encoded(password), password);
    check_every_command(&raw, password, &guest_management, 64, "right password, raw");

    user.set_tags(password, "administrator");
    let plan = ["plan", FIXTURE, "--format", "json", "--timeout", "5"];
    for given in [Given::Flag, Given::Env] {
        let out = run_with(given, &plan, &url);
        assert_eq!(out.code, 0, "{given:?}: {}", out.stderr);
        assert_hidden(&out, password, "management API with the user's password");
        let unchanged = out.json()["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["action"] == "unchanged")
            .count();
        assert_eq!(unchanged, 9, "{}", out.stdout);
        // A wrong password for the management API only: refused (69), unseen.
        let wrong_management = format!(
            "amqp=http://{}:{}@127.0.0.1:15672",
            user.name,
            encoded(PASSWORDS[1])
        );
        let out = run_with(
            given,
            &[&plan[..], &["--management", &wrong_management]].concat(),
            &url,
        );
        assert_eq!(out.code, 69, "{given:?}: {}", out.stderr);
        assert_contains(&out.stderr, "refused the credentials");
        assert_hidden(&out, password, "wrong management password");
        assert_hidden(&out, PASSWORDS[1], "wrong management password");
    }
}

/// lint reads no URL: with one in the environment it passes, silent about it; given as a
/// flag, which lint does not take, it is a usage error that does not echo it.
#[test]
fn lint_never_shows_them() {
    for password in PASSWORDS {
        for url in [
            format!("amqp://guest:{password}@127.0.0.1:5672/v"),
            format!("amqp://guest:{}@127.0.0.1:5672/v", encoded(password)),
        ] {
            let out = run_with(Given::Env, &["lint", FIXTURE], &url);
            assert_eq!(out.code, 0, "{}", out.stderr);
            assert_hidden(&out, password, "lint, env");
            let out = run_with(Given::Flag, &["lint", FIXTURE, "--format", "json"], &url);
            assert_eq!(out.code, 64, "{}", out.stderr);
            assert_hidden(&out, password, "lint, flag");
        }
    }
}
