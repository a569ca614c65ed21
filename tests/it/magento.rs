//! A Magento install read as `setup:upgrade` reads it (fixtures/magento-install): the
//! topology of its enabled modules only, in Magento's module order; not disabled modules,
//! not area-scoped files, not test modules under dev/tests.

use crate::util;

use crate::util::{assert_contains, copy_tree, offline_plan, run};

#[test]
fn an_install_reads_its_enabled_modules_only() {
    let doc = offline_plan("json", &["fixtures/magento-install"]).json();
    let names = |kind: &str| entities(&doc, kind);
    assert_eq!(
        names("exchanges"),
        ["amqp magento", "db magento-db", "events zeta.orders"]
    );
    // Magento's MySQL queue (`db`) is not an AMQP connection in env.php: never provisioned.
    for change in doc["changes"].as_array().unwrap() {
        let skipped = change["action"] == "skip";
        assert_eq!(skipped, change["connection"] == "db", "{change}");
    }
    // zeta's queues come from its queue_topology.queues.xml, which Magento never reads.
    assert_eq!(
        names("queues"),
        [
            "amqp acme.base.sync",
            "db acme.base.export",
            "events zeta.order.placed",
            "events zeta.order.retry"
        ]
    );
    let retry = doc["topology"]["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "zeta.order.retry")
        .unwrap();
    assert_eq!(retry["origin"], "queue");
    assert_eq!(retry["arguments"]["x-message-ttl"], 60000);
    let all = doc.to_string();
    for absent in ["acme.off.event", "test.module", "acme.admin.only"] {
        assert!(!all.contains(absent), "{absent} must not be read");
    }
}

#[test]
fn plan_verbose_lists_the_modules_in_magento_order_and_why_others_are_left_out() {
    let out = run(&["plan", "-v", "--offline", "fixtures/magento-install"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let order: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.trim().split_once(". ").map(|(_, m)| m))
        .collect();
    assert_eq!(
        order,
        [
            "Magento_Amqp",
            "Acme_Base (etc/queue_topology.xml)",
            "Zeta_Orders (etc/queue_topology.xml, etc/queue_topology.queues.xml)",
            "Acme_Admin",
            "Acme_Alpha"
        ]
    );
    assert_contains(
        &out.stdout,
        "skipped module Acme_Off: disabled in app/etc/config.php",
    );
    assert_contains(&out.stdout, "skipped module Acme_Gone");
    // What cannot be read without PHP is said, not guessed.
    assert_contains(&out.stderr, "magento-install");
}

#[test]
fn a_plain_directory_inside_an_install_keeps_the_path_order() {
    // Not the install's root: searched recursively as before, test modules included.
    let out = offline_plan("json", &["fixtures/magento-install/dev"]);
    assert_contains(&out.stdout, "test.module");
}

/// At the root of an install, with no flags: the brokers come from env.php (two AMQP
/// connections, each its own vhost here), apply provisions both, and the second plan has
/// nothing to do. The password read from env.php is never printed.
#[test]
fn apply_at_the_root_of_an_install_uses_the_brokers_of_env_php() {
    let shop = util::Vhost::new("magento-shop");
    let events = util::Vhost::new("magento-events");
    let root = install_with(&format!(
        r#"<?php
return [
    'queue' => [
        'amqp' => ['host' => '127.0.0.1', 'port' => '5672', 'user' => 'guest',
                   'password' => 'guest', 'virtualhost' => '{}'],
        'connections' => [
            'events' => ['host' => '127.0.0.1', 'port' => 5672, 'user' => 'guest',
                         'password' => 'guest', 'virtualhost' => '{}'],
        ],
        'default_connection' => 'amqp',
    ],
];
"#,
        shop.name, events.name
    ));
    let dir = root.path().to_str().unwrap();
    let out = run(&["apply", dir]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let names = |v: &util::Vhost, kind: &str| -> Vec<String> {
        v.definitions()[kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&shop, "queues"), ["acme.base.sync"]);
    let mut queues = names(&events, "queues");
    queues.sort();
    assert_eq!(queues, ["zeta.order.placed", "zeta.order.retry"]);
    let again = run(&["plan", dir, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

/// The passwords of env.php never appear, whatever the output. The fixture's `events` has
/// TLS with a CA file that is not there: a usage error naming it (64); with `--ca-file`,
/// which wins over env.php's, the run goes as far as the brokers, which do not answer (69).
#[test]
fn env_php_passwords_are_never_printed() {
    for (ca_file, code) in [
        (&[][..], 64),
        (&["--ca-file", "fixtures/tls/ca.pem"][..], 69),
    ] {
        for extra in [&[][..], &["--format", "json"][..], &["-v"][..]] {
            let out = run(&[
                &["plan", "fixtures/magento-install", "--timeout", "1"][..],
                ca_file,
                extra,
            ]
            .concat());
            assert_eq!(out.code, code, "{}", out.stderr);
            if code == 64 {
                assert_contains(
                    &out.stderr,
                    "connection `events` in env.php (ssl_options): cannot read CA file `/etc/ssl/ca.pem`",
                );
            }
            for secret in ["fixture-amqp-pass", "fixture-events-pass", "fixture-amqp"] {
                assert!(!out.stdout.contains(secret), "{}", out.stdout);
                assert!(!out.stderr.contains(secret), "{}", out.stderr);
            }
        }
    }
}

/// A temporary copy of the fixture install whose env.php is `env_php`.
fn install_with(env_php: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&util::root().join("fixtures/magento-install"), root.path());
    std::fs::write(root.path().join("app/etc/env.php"), env_php).unwrap();
    root
}

/// env.php with one TLS connection, `amqp`, on 127.0.0.1:`port`, with these `ssl_options`.
fn tls_env_php(port: u16, ssl_options: &str) -> String {
    format!(
        r#"<?php
return [
    'queue' => [
        'amqp' => ['host' => '127.0.0.1', 'port' => '{port}', 'user' => 'shop',
                   'password' => 'Tls-Amqp-Pass/9', 'virtualhost' => '/',
                   'ssl' => 'true', 'ssl_options' => [{ssl_options}]],
        'default_connection' => 'amqp',
    ],
];
"#
    )
}

const PASSPHRASE: &str = "Key-Phrase-Secret-77";

/// env.php's `ssl_options.cafile` that is not there: a usage error (64) naming the file
/// (a relative path is read from the install's root), before any broker is asked; the
/// password and the passphrase are never printed.
#[test]
fn a_missing_cafile_in_env_php_is_a_usage_error_naming_it() {
    let root = install_with(&tls_env_php(
        5671,
        &format!("'cafile' => 'certs/missing-ca.pem', 'passphrase' => '{PASSPHRASE}'"),
    ));
    let dir = root.path().to_str().unwrap();
    let missing = root.path().join("certs/missing-ca.pem");
    for command in ["plan", "apply"] {
        let out = run(&[command, dir, "--timeout", "1"]);
        assert_eq!(out.code, 64, "{}{}", out.stdout, out.stderr);
        assert_contains(
            &out.stderr,
            &format!(
                "error: connection `amqp` in env.php (ssl_options): cannot read CA file `{}`",
                missing.display()
            ),
        );
        for secret in ["Tls-Amqp-Pass", PASSPHRASE] {
            assert!(!out.stdout.contains(secret), "{}", out.stdout);
            assert!(!out.stderr.contains(secret), "{}", out.stderr);
        }
    }
    // Offline, no broker is asked: the files env.php names are not needed.
    let out = run(&["plan", "--offline", dir]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// A CA file env.php names by a relative path is read from the install's root (not the
/// working directory); `verify_peer => false` is not followed, and a note says so; the
/// `ssl_options` keys this tool does not use are named, their values never shown.
#[test]
fn env_php_tls_notes_verify_peer_and_unused_options() {
    // A port nothing listens on: the broker is unreachable (69) once the TLS files are read.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let root = install_with(&tls_env_php(
        port,
        &format!(
            "'cafile' => 'certs/ca.pem', 'verify_peer' => false, 'verify_peer_name' => false, \
             'passphrase' => '{PASSPHRASE}'"
        ),
    ));
    std::fs::create_dir_all(root.path().join("certs")).unwrap();
    std::fs::copy(
        util::root().join("fixtures/tls/ca.pem"),
        root.path().join("certs/ca.pem"),
    )
    .unwrap();
    let out = run(&["plan", root.path().to_str().unwrap(), "--timeout", "2"]);
    assert_eq!(out.code, 69, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(
            "note: connection `amqp`: env.php sets ssl_options.verify_peer to false; topology verifies the broker's certificate all the same"
        ),
        "{}",
        out.stderr
    );
    assert_contains(&out.stderr, "--ca-file");
    assert_eq!(
        out.stderr
            .matches(
                "note: connection `amqp`: env.php's ssl_options `verify_peer_name`, `passphrase` are not used by topology"
            )
            .count(),
        1,
        "{}",
        out.stderr
    );
    assert_contains(&out.stderr, "amqps://127.0.0.1");
    for secret in ["Tls-Amqp-Pass", PASSPHRASE] {
        assert!(!out.stdout.contains(secret), "{}", out.stdout);
        assert!(!out.stderr.contains(secret), "{}", out.stderr);
    }
}

/// A small install in a temporary directory: Magento_Amqp and one module whose
/// queue_topology.xml is `topology`, with `env` as app/etc/env.php.
fn install(topology: &str, env: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = root.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "app/etc/config.php",
        "<?php\nreturn ['modules' => ['Magento_Amqp' => 1, 'Shop_Core' => 1]];\n",
    );
    write("app/etc/env.php", env);
    for (dir, name) in [
        ("app/code/Magento/Amqp", "Magento_Amqp"),
        ("app/code/Shop/Core", "Shop_Core"),
    ] {
        write(
            &format!("{dir}/registration.php"),
            &format!(
                "<?php\nuse Magento\\Framework\\Component\\ComponentRegistrar;\nComponentRegistrar::register(ComponentRegistrar::MODULE, '{name}', __DIR__);\n"
            ),
        );
        write(
            &format!("{dir}/etc/module.xml"),
            &format!("<config><module name=\"{name}\"/></config>\n"),
        );
    }
    write(
        "app/code/Shop/Core/etc/queue_topology.xml",
        &format!(
            "<config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">{topology}</config>\n"
        ),
    );
    root
}

/// `connection name` of each entity of `kind` in a JSON plan's topology.
fn entities(doc: &serde_json::Value, kind: &str) -> Vec<String> {
    doc["topology"][kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["connection"].as_str().unwrap(),
                e["name"].as_str().or(e["destination"].as_str()).unwrap()
            )
        })
        .collect()
}

fn exchanges(doc: &serde_json::Value) -> Vec<String> {
    entities(doc, "exchanges")
}

/// An element without `connection` takes env.php's default connection (Magento's
/// DefaultValueProvider), unless --default-connection says another; Magento's own `magento`
/// exchange (its RemoteService topology reader) is on that connection too.
#[test]
fn the_default_connection_comes_from_env_php() {
    // The offline plan of one module's `shop.events` in an install with this env.php.
    let plan = |env_php: &str, flags: &[&str]| {
        let root = install(
            r#"<exchange name="shop.events"><binding id="b" topic="t" destination="shop.q"/></exchange>"#,
            env_php,
        );
        let dir = root.path().to_str().unwrap();
        offline_plan("json", &[flags, &[dir]].concat()).json()
    };
    let bus = "<?php return ['queue' => ['amqp' => ['host' => 'h'], 'connections' => ['bus' => ['host' => 'h']], 'default_connection' => 'bus']];";
    let doc = plan(bus, &[]);
    assert_eq!(exchanges(&doc), ["bus magento", "bus shop.events"]);
    let doc = plan(bus, &["--default-connection", "amqp"]);
    assert_eq!(exchanges(&doc), ["amqp magento", "amqp shop.events"]);
    // No default_connection: `amqp` when queue/amqp is set, else Magento's MySQL queue `db`,
    // which is not provisioned.
    let doc = plan("<?php return ['db' => ['connection' => []]];", &[]);
    assert_eq!(exchanges(&doc), ["db magento", "db shop.events"]);
    assert!(
        doc["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["action"] == "skip"),
        "{doc}"
    );
}

/// --magento-root reads an install also when no PATH is given, and refuses a directory
/// that is not one.
#[test]
fn magento_root_names_the_install() {
    let by_path = offline_plan("json", &["fixtures/magento-install"]);
    let by_flag = offline_plan("json", &["--magento-root", "fixtures/magento-install"]);
    assert_eq!(by_flag.code, 0, "{}", by_flag.stderr);
    assert_eq!(by_path.json()["topology"], by_flag.json()["topology"]);
    let out = run(&["lint", "--magento-root", "fixtures/merge"]);
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert!(
        out.stderr.contains("fixtures/merge") && out.stderr.contains("app/etc/config.php"),
        "{}",
        out.stderr
    );
    let out = run(&["lint", "--magento-root", "fixtures/no-such-dir"]);
    assert_eq!(out.code, 64, "{}", out.stderr);
}

/// Coexistence with a stock Magento: every queue_topology.xml of the install is valid for
/// Magento's own topology.xsd (which developer mode checks), and the `<queue>` elements live in
/// queue_topology.queues.xml, which that schema would refuse and Magento never reads.
#[test]
fn queue_elements_live_where_magento_does_not_validate() {
    let Some(corpus) = util::corpus() else {
        eprintln!("SKIPPED: the Magento corpus is not on this machine");
        return;
    };
    let xsd = corpus.join("lib/internal/Magento/Framework/MessageQueue/etc/topology.xsd");
    let xmllint = |file: &std::path::Path| {
        std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&xsd)
            .arg(file)
            .output()
    };
    let zeta = util::root().join("fixtures/magento-install/vendor/zeta/orders/src/etc");
    if !util::tool("xmllint", "--version", "libxml2-utils") {
        return;
    }
    let stock = xmllint(&zeta.join("queue_topology.xml")).unwrap();
    assert!(stock.status.success(), "{stock:?}");
    let extra = xmllint(&zeta.join("queue_topology.queues.xml")).unwrap();
    assert!(!extra.status.success(), "Magento's schema refuses <queue>");
    assert!(String::from_utf8_lossy(&extra.stderr).contains("Element 'queue'"));
    // In a plain directory, the pair is read too, queue_topology.xml first.
    let doc = offline_plan("json", &[zeta.to_str().unwrap()]).json();
    let origins: Vec<(&str, &str)> = doc["topology"]["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["name"].as_str().unwrap(), q["origin"].as_str().unwrap()))
        .collect();
    assert_eq!(
        origins,
        [
            ("zeta.order.placed", "queue"),
            ("zeta.order.retry", "queue")
        ]
    );
}

/// Declares `queue` as Magento's QueueInstaller does for a queue it infers from a binding:
/// durable, not auto-delete, with the binding's arguments (none here). The broker's answer.
fn declare_as_magento(vhost: &util::Vhost, queue: &str) -> Result<(), lapin::Error> {
    let rt = util::amqp::runtime();
    rt.block_on(async {
        let conn = util::amqp::connect(&vhost.name, "magento-setup-upgrade").await;
        let channel = conn.create_channel().await.unwrap();
        let declared = channel
            .queue_declare(
                queue.into(),
                lapin::options::QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                lapin::types::FieldTable::default(),
            )
            .await
            .map(|_| ());
        let _ = conn.close(200, "done".into()).await;
        declared
    })
}

/// What happens when `topology apply` and Magento's `setup:upgrade` both declare a shop's
/// queues (docs/magento.md). Magento declares a `<queue>` it does not know as a plain
/// binding-inferred queue, without arguments.
/// - setup:upgrade first: the queue exists without arguments; `plan` shows a replace, and
///   `apply --allow-recreate` swaps it.
/// - topology first: Magento's declare of the same queue is refused with 406
///   PRECONDITION_FAILED (Magento logs it and stops declaring); the topology is unchanged.
#[test]
fn coexistence_with_setup_upgrade() {
    let v = util::Vhost::new("magento-coexist");
    let url = v.url();
    declare_as_magento(&v, "orders.main").expect("a fresh queue is declared");
    let doc = run(&[
        "plan",
        "fixtures/retry-triple",
        "--connection",
        &url,
        "--format",
        "json",
    ])
    .json();
    let main = util::actions(&doc)
        .into_iter()
        .find(|(_, kind, name)| kind == "queue" && name == "orders.main")
        .unwrap();
    assert_eq!(main.0, "replace", "{doc}");
    let out = run(&[
        "apply",
        "fixtures/retry-triple",
        "--connection",
        &url,
        "--allow-recreate",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let again = run(&[
        "plan",
        "fixtures/retry-triple",
        "--connection",
        &url,
        "--detailed-exitcode",
    ]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);

    let refused = declare_as_magento(&v, "orders.main").expect_err("Magento's declare fails");
    assert!(
        refused.to_string().contains("PRECONDITION_FAILED")
            && refused.to_string().contains("x-dead-letter-exchange"),
        "{refused}"
    );
    let after = run(&[
        "plan",
        "fixtures/retry-triple",
        "--connection",
        &url,
        "--detailed-exitcode",
    ]);
    assert_eq!(after.code, 0, "{}{}", after.stdout, after.stderr);
}
