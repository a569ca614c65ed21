//! The protocols against the in-memory broker, with a fault injected at every operation of
//! every protocol: after the fault, and after the runs that follow it, no message was lost,
//! every binding that existed is back, and the broker converges to the files.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::fake::{FakeBroker, Fault};
use super::*;
use crate::broker::ConnectionState;
use crate::model::{DestinationType, Value};
use crate::plan::{self, Action};
use crate::spec::{BindingKey, BindingSpec, ConnectionSpecs, ExchangeSpec, QueueSpec};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
}

fn exchange(name: &str, kind: &str) -> ExchangeSpec {
    ExchangeSpec::of_kind(name, kind)
}

fn binding(source: &str, dest: &str, key: &str, t: DestinationType) -> BindingSpec {
    BindingSpec {
        key: BindingKey {
            source: source.into(),
            destination: dest.into(),
            destination_type: t,
            routing_key: key.into(),
        },
        arguments: crate::spec::ArgMap::new(),
    }
}

const Q: DestinationType = DestinationType::Queue;
const X: DestinationType = DestinationType::Exchange;

/// Plans `want` against the fake, then applies. Returns how the run ended and its steps.
fn apply_once(fake: &mut FakeBroker, want: &ConnectionSpecs, prune: bool) -> (Ending, Vec<Step>) {
    let have = fake.snapshot();
    let desired = BTreeMap::from([("amqp".to_string(), want.clone())]);
    let states = BTreeMap::from([("amqp".to_string(), ConnectionState::Live(have.clone()))]);
    let the_plan = plan::plan(desired, &states, prune);
    let changes: Vec<&Change> = the_plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::Unchanged | Action::Skip))
        .collect();
    let mut steps = Vec::new();
    let ending = rt().block_on(run_connection(
        fake,
        &changes,
        &have,
        Duration::ZERO,
        &mut steps,
    ));
    (ending, steps)
}

fn pending_changes(fake: &FakeBroker, want: &ConnectionSpecs) -> Vec<String> {
    let desired = BTreeMap::from([("amqp".to_string(), want.clone())]);
    let states = BTreeMap::from([("amqp".to_string(), ConnectionState::Live(fake.snapshot()))]);
    plan::plan(desired, &states, false)
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::Unchanged | Action::Skip))
        .map(|c| format!("{} {} {}", c.action.as_str(), c.kind().as_str(), c.name()))
        .collect()
}

/// The message of the refused step.
fn refusal(steps: &[Step]) -> &str {
    steps
        .iter()
        .find(|s| s.status == Status::Refused)
        .and_then(|s| s.message.as_deref())
        .expect("a refused step says why")
}

/// Every message published is on the broker; none was destroyed or found no queue.
fn assert_no_loss(fake: &FakeBroker, context: &str) {
    assert!(
        fake.destroyed.is_empty(),
        "{context}: destroyed {:?}",
        fake.destroyed
    );
    assert!(
        fake.unroutable.is_empty(),
        "{context}: published and routed nowhere {:?}",
        fake.unroutable
    );
    let present: BTreeSet<u64> = fake.all_messages().into_iter().collect();
    let missing: Vec<u64> = fake
        .published
        .iter()
        .filter(|id| !present.contains(id))
        .copied()
        .collect();
    assert!(missing.is_empty(), "{context}: lost {missing:?}");
}

/// Runs apply until the plan is empty (at most 3 runs after the faulty one).
fn converge(fake: &mut FakeBroker, want: &ConnectionSpecs, context: &str) {
    for _ in 0..3 {
        if pending_changes(fake, want).is_empty() {
            return;
        }
        fake.heal();
        let (ending, steps) = apply_once(fake, want, false);
        assert_ne!(ending, Ending::Lost, "{context}: {steps:?}");
    }
    assert_eq!(
        pending_changes(fake, want),
        Vec::<String>::new(),
        "{context}: no convergence"
    );
}

/// A live retry queue: 5 messages, bound from `ex` (declared) and from `other` (a binding
/// the files do not declare); the files change its TTL.
fn retry_queue_scenario(queue_type: Option<&str>) -> (FakeBroker, ConnectionSpecs) {
    let mut old_args = vec![("x-message-ttl", Value::Int(5000))];
    let mut new_args = vec![("x-message-ttl", Value::Int(6000))];
    if let Some(t) = queue_type {
        old_args.push(("x-queue-type", Value::Str(t.into())));
        new_args.push(("x-queue-type", Value::Str(t.into())));
    }
    let mut fake = FakeBroker::new();
    fake.declare_exchange(exchange("ex", "topic"));
    fake.declare_exchange(exchange("other", "topic"));
    fake.declare_queue(QueueSpec::with("q", &old_args));
    fake.bind(binding("ex", "q", "a", Q));
    fake.bind(binding("other", "q", "x", Q));
    for _ in 0..5 {
        fake.publish("ex", "a");
    }
    let want = ConnectionSpecs {
        exchanges: vec![exchange("ex", "topic")],
        queues: vec![QueueSpec::with("q", &new_args)],
        bindings: vec![binding("ex", "q", "a", Q)],
    };
    (fake, want)
}

/// The `x-message-ttl` of the fake broker's queue `q`, if it has that queue.
fn ttl_of_q(fake: &FakeBroker) -> Option<Value> {
    fake.queue("q")
        .map(|q| q.arguments.get("x-message-ttl").cloned().unwrap())
}

fn assert_swapped(fake: &FakeBroker, context: &str) {
    assert_eq!(ttl_of_q(fake), Some(Value::Int(6000)), "{context}");
    for b in [binding("ex", "q", "a", Q), binding("other", "q", "x", Q)] {
        assert!(
            fake.bindings().contains(&b),
            "{context}: {} missing",
            b.display_name()
        );
    }
    assert_nothing_left(fake, context);
    assert_no_loss(fake, context);
}

/// No holding queue, record or scratch queue of this tool is left on the broker.
fn assert_nothing_left(fake: &FakeBroker, context: &str) {
    let own: Vec<String> = fake
        .queue_names()
        .into_iter()
        .filter(|n| n.starts_with("topology."))
        .collect();
    assert!(own.is_empty(), "{context}: left {own:?}");
}

/// The number of operations a clean run of the scenario takes.
fn clean_calls(scenario: &dyn Fn() -> (FakeBroker, ConnectionSpecs)) -> usize {
    let (mut fake, want) = scenario();
    let (ending, steps) = apply_once(&mut fake, &want, false);
    assert_eq!(ending, Ending::Done, "{steps:?}");
    fake.calls
}

fn swap_under_every_fault(queue_type: Option<&str>) {
    let scenario = || retry_queue_scenario(queue_type);
    let n = clean_calls(&scenario);
    assert!(n > 10, "the swap takes steps: {n}");
    for at in 0..=n {
        for fault in [Fault::Refuse, Fault::Lose] {
            let context = format!("{queue_type:?}, {fault:?} at operation {at} of {n}");
            let (mut fake, want) = scenario();
            fake.fault_at = Some((at, fault));
            fake.traffic = vec![("ex".into(), "a".into())];
            let _ = apply_once(&mut fake, &want, false);
            assert_no_loss(&fake, &context);
            converge(&mut fake, &want, &context);
            assert_swapped(&fake, &context);
        }
    }
}

/// A run killed at any step, then the files change again before the next run (as when a
/// deploy is retried with a fix): the next runs still converge, losing nothing.
#[test]
fn a_killed_swap_then_another_definition_converges() {
    let scenario = || retry_queue_scenario(None);
    let n = clean_calls(&scenario);
    for at in 0..=n {
        let context = format!("lost at operation {at} of {n}, then TTL 7000");
        let (mut fake, mut want) = scenario();
        fake.fault_at = Some((at, Fault::Lose));
        let _ = apply_once(&mut fake, &want, false);
        want.queues[0]
            .arguments
            .insert("x-message-ttl".into(), Value::Int(7000));
        converge(&mut fake, &want, &context);
        assert_eq!(ttl_of_q(&fake), Some(Value::Int(7000)), "{context}");
        assert_nothing_left(&fake, &context);
        assert_no_loss(&fake, &context);
    }
}

#[test]
fn classic_swap_loses_nothing_whatever_step_fails() {
    swap_under_every_fault(None);
}

#[test]
fn quorum_swap_loses_nothing_whatever_step_fails() {
    swap_under_every_fault(Some("quorum"));
}

#[test]
fn swap_under_traffic_keeps_every_message_and_binding() {
    let (mut fake, want) = retry_queue_scenario(None);
    fake.traffic = vec![("ex".into(), "a".into()), ("other".into(), "x".into())];
    let (ending, steps) = apply_once(&mut fake, &want, false);
    assert_eq!(ending, Ending::Done, "{steps:?}");
    assert!(
        fake.published.len() > 5 + 20,
        "traffic flowed during the swap"
    );
    assert_swapped(&fake, "under traffic");
    // Every message is in the new queue; a message published while a binding sat on both
    // the queue and the holding queue arrives twice (at least once, as RabbitMQ).
    let distinct: BTreeSet<u64> = fake.all_messages().into_iter().collect();
    assert_eq!(distinct.len(), fake.published.len(), "all in the new queue");
    assert!(fake.messages("q") >= fake.published.len());
    assert!(
        fake.messages("q") - fake.published.len() <= 8,
        "duplicates only in bind windows"
    );
    let swap = steps
        .iter()
        .find(|s| s.kind == crate::plan::EntityKind::Queue)
        .expect("a queue step");
    assert!(
        swap.message
            .as_deref()
            .unwrap_or("")
            .contains("messages moved"),
        "{swap:?}"
    );
}

#[test]
fn consumers_holding_messages_refuse_the_replace_and_nothing_changes() {
    let (mut fake, want) = retry_queue_scenario(None);
    fake.consume("q", "magento-consumer@10.0.0.7", 3);
    let before = fake.snapshot();
    let (ending, steps) = apply_once(&mut fake, &want, false);
    assert_eq!(ending, Ending::Refused);
    assert!(
        refusal(&steps).contains("magento-consumer@10.0.0.7"),
        "{steps:?}"
    );
    assert_eq!(fake.snapshot(), before, "nothing changed");
    fake.consumers_leave("q");
    assert_eq!(fake.messages("q"), 5);
    assert_no_loss(&fake, "consumers handed back");
}

#[test]
fn unacked_messages_without_consumers_refuse_the_replace_and_it_is_undone() {
    let (mut fake, want) = retry_queue_scenario(None);
    fake.consume("q", "c", 2);
    // The consumer cancels but keeps its 2 messages unacknowledged: no consumer counts.
    fake.consumers_cancel("q");
    let (ending, steps) = apply_once(&mut fake, &want, false);
    assert_eq!(ending, Ending::Refused, "{steps:?}");
    assert!(refusal(&steps).contains("not acknowledged"), "{steps:?}");
    assert_eq!(ttl_of_q(&fake), Some(Value::Int(5000)));
    assert_nothing_left(&fake, "refused and undone");
    for b in [binding("ex", "q", "a", Q), binding("other", "q", "x", Q)] {
        assert!(
            fake.bindings().contains(&b),
            "{} put back",
            b.display_name()
        );
    }
    fake.consumers_leave("q");
    assert_eq!(fake.messages("q"), 5);
    assert_no_loss(&fake, "unacked handed back");
}

#[test]
fn quorum_lost_leaves_the_queue_its_bindings_and_messages() {
    let (mut fake, want) = retry_queue_scenario(Some("quorum"));
    fake.quorum_lost = true;
    let before = fake.snapshot();
    let (ending, steps) = apply_once(&mut fake, &want, false);
    assert_ne!(ending, Ending::Done, "{steps:?}");
    fake.quorum_lost = false;
    let after = fake.snapshot();
    assert_eq!(after.queues, before.queues, "the old queue, untouched");
    assert_eq!(after.bindings, before.bindings);
    assert_no_loss(&fake, "quorum lost");
    // Once the quorum is back, apply converges.
    converge(&mut fake, &want, "quorum back");
    assert_swapped(&fake, "quorum back");
}

#[test]
fn a_refused_new_definition_removes_nothing() {
    let (mut fake, mut want) = retry_queue_scenario(None);
    // The scratch declare of the new definition is the first write: refuse it.
    want.queues[0]
        .arguments
        .insert("x-queue-type".into(), Value::Str("quorum".into()));
    fake.quorum_lost = true;
    let before = fake.snapshot();
    let (ending, _) = apply_once(&mut fake, &want, false);
    assert_ne!(ending, Ending::Done);
    assert_eq!(fake.snapshot(), before);
}

/// Exchange `ex` becomes direct; bindings from it (to a queue and an exchange) and to it
/// (from `up`, not in the files) all come back, whatever step fails.
fn exchange_scenario() -> (FakeBroker, ConnectionSpecs) {
    let mut fake = FakeBroker::new();
    for (n, k) in [("ex", "topic"), ("e2", "fanout"), ("up", "topic")] {
        fake.declare_exchange(exchange(n, k));
    }
    fake.declare_queue(QueueSpec::with("q", &[]));
    fake.bind(binding("ex", "q", "a", Q));
    fake.bind(binding("ex", "e2", "b", X));
    fake.bind(binding("up", "ex", "c", X));
    fake.publish("ex", "a");
    let want = ConnectionSpecs {
        exchanges: vec![exchange("ex", "direct"), exchange("e2", "fanout")],
        queues: vec![QueueSpec::with("q", &[])],
        bindings: vec![binding("ex", "q", "a", Q)],
    };
    (fake, want)
}

#[test]
fn exchange_replace_restores_every_binding_whatever_step_fails() {
    let n = clean_calls(&exchange_scenario);
    for at in 0..=n {
        for fault in [Fault::Refuse, Fault::Lose] {
            let context = format!("{fault:?} at operation {at} of {n}");
            let (mut fake, want) = exchange_scenario();
            fake.fault_at = Some((at, fault));
            let _ = apply_once(&mut fake, &want, false);
            converge(&mut fake, &want, &context);
            assert_eq!(fake.exchange("ex").unwrap().kind, "direct", "{context}");
            for b in [
                binding("ex", "q", "a", Q),
                binding("ex", "e2", "b", X),
                binding("up", "ex", "c", X),
            ] {
                assert!(
                    fake.bindings().contains(&b),
                    "{context}: {}",
                    b.display_name()
                );
            }
            assert_nothing_left(&fake, &context);
            assert_eq!(fake.messages("q"), 1, "{context}");
        }
    }
}

#[test]
fn prune_never_deletes_a_queue_with_consumers_or_messages() {
    let mut fake = FakeBroker::new();
    fake.declare_queue(QueueSpec::with("held", &[]));
    fake.publish_to_queue("held");
    fake.publish_to_queue("held");
    fake.consume("held", "worker-1", 2);
    fake.declare_queue(QueueSpec::with("full", &[]));
    fake.publish_to_queue("full");
    fake.declare_queue(QueueSpec::with("empty", &[]));
    fake.declare_queue(QueueSpec::with(
        "qq",
        &[("x-queue-type", Value::Str("quorum".into()))],
    ));
    let want = ConnectionSpecs::default();
    let (ending, steps) = apply_once(&mut fake, &want, true);
    assert_eq!(ending, Ending::Refused, "{steps:?}");
    assert!(
        steps
            .iter()
            .any(|s| s.message.as_deref().unwrap_or("").contains("worker-1")),
        "{steps:?}"
    );
    assert_eq!(fake.queue_names().len(), 4, "nothing deleted while refused");
    fake.consumers_leave("held");
    let (ending, steps) = apply_once(&mut fake, &want, true);
    assert_eq!(ending, Ending::Done, "{steps:?}");
    assert_eq!(
        fake.queue_names(),
        ["full", "held"],
        "only empty queues deleted"
    );
    assert_no_loss(&fake, "prune");
}

#[test]
fn prune_under_every_fault_loses_nothing() {
    let scenario = || {
        let mut fake = FakeBroker::new();
        fake.declare_exchange(exchange("ex", "topic"));
        fake.declare_queue(QueueSpec::with("stray", &[]));
        fake.declare_queue(QueueSpec::with(
            "qq",
            &[("x-queue-type", Value::Str("quorum".into()))],
        ));
        fake.bind(binding("ex", "stray", "a", Q));
        fake.bind(binding("ex", "qq", "a", Q));
        (
            fake,
            ConnectionSpecs {
                exchanges: vec![exchange("ex", "topic")],
                ..Default::default()
            },
        )
    };
    let (mut clean, want) = scenario();
    assert_eq!(apply_once(&mut clean, &want, true).0, Ending::Done);
    let n = clean.calls;
    for at in 0..=n {
        for fault in [Fault::Refuse, Fault::Lose] {
            let (mut fake, want) = scenario();
            fake.fault_at = Some((at, fault));
            fake.traffic = vec![("ex".into(), "a".into())];
            let _ = apply_once(&mut fake, &want, true);
            fake.heal();
            // Whatever was routed to a queue before its bindings were pruned stays.
            assert!(
                fake.destroyed.is_empty(),
                "{fault:?} at {at}: {:?}",
                fake.destroyed
            );
        }
    }
}

/// A binding whose arguments change, under traffic, with a fault at every operation: the
/// queue stays bound throughout (no message published meanwhile finds no queue), and the
/// runs that follow leave exactly the new binding.
#[test]
fn binding_replace_keeps_the_queue_bound_whatever_step_fails() {
    let with = |note: &str| {
        let mut b = binding("ex", "q", "a", Q);
        b.arguments.insert("x-note".into(), Value::Str(note.into()));
        b
    };
    let scenario = || {
        let mut fake = FakeBroker::new();
        fake.declare_exchange(exchange("ex", "topic"));
        fake.declare_queue(QueueSpec::with("q", &[]));
        fake.bind(with("old"));
        let want = ConnectionSpecs {
            exchanges: vec![exchange("ex", "topic")],
            queues: vec![QueueSpec::with("q", &[])],
            bindings: vec![with("new")],
        };
        (fake, want)
    };
    let n = clean_calls(&scenario);
    for at in 0..=n {
        for fault in [Fault::Refuse, Fault::Lose] {
            let context = format!("{fault:?} at operation {at} of {n}");
            let (mut fake, want) = scenario();
            fake.fault_at = Some((at, fault));
            fake.traffic = vec![("ex".into(), "a".into())];
            let (_, steps) = apply_once(&mut fake, &want, false);
            assert!(
                steps
                    .iter()
                    .all(|s| s.status != Status::Done || s.action == Action::Replace),
                "{context}: {steps:?}"
            );
            assert_no_loss(&fake, &context);
            converge(&mut fake, &want, &context);
            assert_eq!(fake.bindings(), vec![with("new")], "{context}");
            assert_no_loss(&fake, &context);
        }
    }
}
