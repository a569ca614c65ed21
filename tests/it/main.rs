//! The integration tests that share one binary (one link instead of a dozen): each module is
//! one former test file, run against the built `topology` binary and, where it needs one, the
//! RabbitMQ on 127.0.0.1 (its own vhost per test). The tests whose timing matters, or that
//! start private broker nodes, stay binaries of their own (`tests/*.rs`), so that they do not
//! run beside these.

#[path = "../util/mod.rs"]
mod util;

mod broker;
mod broker_rules;
mod ci_examples;
mod docs;
mod export;
mod import;
mod lint;
mod magento;
mod plan_offline;
mod pre_commit;
mod process;
mod schemas;
mod secrets;
