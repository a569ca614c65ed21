//! A Magento install read as `setup:upgrade` reads it (fixtures/magento-install): the
//! topology of its enabled modules only, in Magento's module order; not disabled modules,
//! not area-scoped files, not test modules under dev/tests.

mod util;

use util::run;

#[test]
fn an_install_reads_its_enabled_modules_only() {
    let doc = run(&[
        "plan",
        "--offline",
        "--format",
        "json",
        "fixtures/magento-install",
    ])
    .json();
    let names = |kind: &str| -> Vec<String> {
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
    };
    assert_eq!(names("exchanges"), ["amqp magento", "events zeta.orders"]);
    assert_eq!(
        names("queues"),
        ["amqp acme.base.sync", "events zeta.order.placed"]
    );
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
            "Zeta_Orders (etc/queue_topology.xml)",
            "Acme_Admin",
            "Acme_Alpha"
        ]
    );
    assert!(
        out.stdout
            .contains("skipped module Acme_Off: disabled in app/etc/config.php"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("skipped module Acme_Gone"),
        "{}",
        out.stdout
    );
    // What cannot be read without PHP is said, not guessed.
    assert!(out.stderr.contains("magento-install"), "{}", out.stderr);
}

#[test]
fn a_plain_directory_inside_an_install_keeps_the_path_order() {
    // Not the install's root: searched recursively as before, test modules included.
    let out = run(&[
        "plan",
        "--offline",
        "--format",
        "json",
        "fixtures/magento-install/dev",
    ]);
    assert!(out.stdout.contains("test.module"), "{}", out.stdout);
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// At the root of an install, with no flags: the brokers come from env.php (two AMQP
/// connections, each its own vhost here), apply provisions both, and the second plan has
/// nothing to do. The password read from env.php is never printed.
#[test]
fn apply_at_the_root_of_an_install_uses_the_brokers_of_env_php() {
    let shop = util::Vhost::new("magento-shop");
    let events = util::Vhost::new("magento-events");
    let root = tempfile::tempdir().unwrap();
    copy_tree(&util::root().join("fixtures/magento-install"), root.path());
    std::fs::write(
        root.path().join("app/etc/env.php"),
        format!(
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
        ),
    )
    .unwrap();
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
    assert_eq!(names(&events, "queues"), ["zeta.order.placed"]);
    let again = run(&["plan", dir, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

/// The passwords of env.php never appear, whatever the output.
#[test]
fn env_php_passwords_are_never_printed() {
    for extra in [&[][..], &["--format", "json"][..], &["-v"][..]] {
        let out = run(&[
            &["plan", "fixtures/magento-install", "--timeout", "1"][..],
            extra,
        ]
        .concat());
        assert_eq!(out.code, 69, "{}", out.stderr);
        for secret in ["fixture-amqp-pass", "fixture-events-pass", "fixture-amqp"] {
            assert!(!out.stdout.contains(secret), "{}", out.stdout);
            assert!(!out.stderr.contains(secret), "{}", out.stderr);
        }
    }
}
