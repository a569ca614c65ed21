//! TLS end to end, on a private node of its own that takes AMQPS and HTTPS and requires a
//! client certificate on both (`scripts/private-rabbit.sh --tls`). The certificates are made
//! here with `openssl`: a CA, the server's for `localhost`, and a client's, as PKCS#12
//! (`--client-cert`) and as PEM (a Magento install's `ssl_options`). What is checked is what
//! the TLS stack decides: the broker's certificate verified against the CA given, the client
//! certificate presented, both over AMQP (lapin) and the management API (reqwest).

mod util;

use std::path::Path;
use std::process::Command;

use util::cluster::PrivateCluster;
use util::{copy_tree, run};

const P12_PASSWORD: &str = "P12-Pass-Secret-41";

/// Runs `openssl ARGS` (split at spaces) in `dir`; panics with its output when it fails.
fn openssl(dir: &Path, args: &str) {
    let out = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl cannot run ({e}): it is needed for this test"));
    assert!(
        out.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a certificate for `localhost` / 127.0.0.1 signed by it (server.pem, server.key) and
/// a client certificate (client.pem, client.key, client.p12); and `other-ca.pem`, a CA that
/// signed nothing here.
fn certificates() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let uses = [
        (
            "server",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth",
        ),
        ("client", "extendedKeyUsage=clientAuth"),
    ];
    for (name, ext) in uses {
        std::fs::write(d.join(format!("{name}.ext")), format!("{ext}\n")).unwrap();
    }
    let new_key = "req -newkey rsa:2048 -nodes";
    for ca in ["ca", "other-ca"] {
        openssl(
            d,
            &format!("{new_key} -x509 -days 2 -keyout {ca}.key -out {ca}.pem -subj /CN={ca}"),
        );
    }
    for (name, subject) in [("server", "localhost"), ("client", "guest")] {
        openssl(
            d,
            &format!("{new_key} -keyout {name}.key -out {name}.csr -subj /CN={subject}"),
        );
        openssl(
            d,
            &format!(
                "x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
                 -out {name}.pem -extfile {name}.ext"
            ),
        );
    }
    openssl(
        d,
        &format!(
            "pkcs12 -export -in client.pem -inkey client.key -out client.p12 \
             -passout pass:{P12_PASSWORD}"
        ),
    );
    dir
}

/// The queues of `vhost` on node 1, by the plain management port.
fn queues(cluster: &PrivateCluster, vhost: &str) -> Vec<String> {
    let (status, body) = cluster.api(1, "GET", &format!("/queues/{vhost}?columns=name"), None);
    assert_eq!(status, 200, "{body}");
    let mut names: Vec<String> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn apply_and_plan_over_tls_verify_the_broker_and_present_the_client_certificate() {
    let certs = certificates();
    let dir = certs.path().to_str().unwrap();
    let Some(cluster) = PrivateCluster::start_or_skip("tls", 1, 6000, &["--tls", dir]) else {
        return;
    };
    cluster.create_vhost(1, "v");
    // `amqp=SCHEME://guest:guest@localhost:PORT…`: the connection `amqp` at a node's port.
    let at = |scheme: &str, port: u16, vhost: &str| {
        format!("amqp={scheme}://guest:guest@localhost:{port}{vhost}")
    };
    let amqps = at("amqps", cluster.amqps_port(1), "/v");
    let https = at("https", cluster.https_port(1), "");
    let ca = certs.path().join("ca.pem");
    let p12 = certs.path().join("client.p12");
    let (ca, p12) = (ca.to_str().unwrap(), p12.to_str().unwrap());
    let reach = [
        "--connection",
        &amqps,
        "--management",
        &https,
        "--ca-file",
        ca,
        "--timeout",
        "10",
    ];
    let identity = ["--client-cert", p12, "--client-cert-password", P12_PASSWORD];
    let files = util::root().join("fixtures/retry-triple");
    let files = files.to_str().unwrap();
    // Runs `topology ARGS`: the exit code is `code`, the output says each of `said`, and no
    // output ever shows the PKCS#12 password.
    let expect = |args: &[&[&str]], code: i32, said: &[&str]| {
        let out = run(&args.concat());
        let text = format!("{}{}", out.stdout, out.stderr);
        assert_eq!(out.code, code, "{text}");
        for s in said {
            assert!(text.contains(s), "`{s}` not in:\n{text}");
        }
        assert!(!text.contains(P12_PASSWORD), "{text}");
        assert!(!text.contains("AMQP probes"), "{text}");
    };

    // The client certificate presented: apply declares, the plan reads it all back.
    expect(&[&["apply", files], &reach, &identity], 0, &["9 created"]);
    assert_eq!(
        queues(&cluster, "v"),
        ["orders.error", "orders.main", "orders.retry"]
    );
    let plan = ["plan", files, "--detailed-exitcode"];
    expect(&[&plan, &reach, &identity], 0, &["9 unchanged"]);

    // No client certificate: the broker refuses the handshake (with an alert, or a reset:
    // either may arrive first); unavailable (69), and the error says what to give.
    let give_cert = "client certificate";
    expect(
        &[&plan, &reach],
        69,
        &[give_cert, "give one with --client-cert"],
    );

    // A CA that did not sign the broker's certificate, or none (the platform's roots only):
    // the broker is not trusted (69), and the error says what to give.
    let other = certs.path().join("other-ca.pem");
    let mut untrusted = reach;
    untrusted[5] = other.to_str().unwrap();
    let platform_only = [&reach[..4], &reach[6..]].concat();
    let not_trusted = "the broker's TLS certificate is not trusted (invalid peer certificate: UnknownIssuer): give the CA that signed it with --ca-file";
    for reach in [&untrusted[..], &platform_only[..]] {
        expect(&[&plan, reach, &identity], 69, &[not_trusted]);
    }

    // The management API alone over TLS (AMQP on the plain port): each TLS failure is an
    // error that says what to do, never taken for "nothing listens there" (which would
    // plan from AMQP probes instead).
    let plain = at("amqp", cluster.amqp_port(1), "/v");
    let https_on_plain = at("https", cluster.management_port(1), "");
    let with_ca = ["--ca-file", ca];
    for (management, tls, said) in [
        (
            &https,
            &with_ca[..],
            "the broker requires a client certificate",
        ),
        (
            &https,
            &identity[..],
            "the broker's TLS certificate is not trusted",
        ),
        (&https_on_plain, &with_ca[..], "the port does not speak TLS"),
    ] {
        let broker = ["--connection", &plain, "--management", management];
        let api = "error: management API https://localhost:";
        expect(&[&plan, &broker, tls], 69, &[api, said]);
    }

    // A Magento install whose env.php gives the broker with ssl_options: the CA file and a
    // PEM client certificate and key (relative paths: read from the install's root).
    let install = tempfile::tempdir().unwrap();
    copy_tree(
        &util::root().join("fixtures/magento-install"),
        install.path(),
    );
    let tls_dir = install.path().join("certs");
    std::fs::create_dir_all(&tls_dir).unwrap();
    for f in ["ca.pem", "client.pem", "client.key"] {
        std::fs::copy(certs.path().join(f), tls_dir.join(f)).unwrap();
    }
    cluster.create_vhost(1, "shop");
    std::fs::write(
        install.path().join("app/etc/env.php"),
        format!(
            r#"<?php
return [
    'queue' => [
        'amqp' => ['host' => 'localhost', 'port' => '{}', 'user' => 'guest',
                   'password' => 'guest', 'virtualhost' => 'shop', 'ssl' => 'true',
                   'ssl_options' => ['cafile' => 'certs/ca.pem',
                                     'local_cert' => 'certs/client.pem',
                                     'local_pk' => 'certs/client.key']],
        'default_connection' => 'amqp',
    ],
];
"#,
            cluster.amqps_port(1)
        ),
    )
    .unwrap();
    let root = install.path().to_str().unwrap();
    // (`events`, the install's other connection, on the same node over plain AMQP.)
    let events = at("amqp", cluster.amqp_port(1), "/shop").replacen("amqp=", "events=", 1);
    let events_api = at("http", cluster.management_port(1), "").replacen("amqp=", "events=", 1);
    let magento = [
        "--management",
        &https,
        "--connection",
        &events,
        "--management",
        &events_api,
        "--timeout",
        "10",
    ];
    expect(&[&["apply", root], &magento], 0, &["Apply complete"]);
    expect(&[&["plan", root, "--detailed-exitcode"], &magento], 0, &[]);
    let shop = queues(&cluster, "shop");
    assert!(shop.iter().any(|q| q.starts_with("zeta.")), "{shop:?}");
}
