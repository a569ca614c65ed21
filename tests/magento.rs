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
