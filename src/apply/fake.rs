//! An in-memory broker behind the [`Executor`] seam, for unit tests of the protocols: it
//! keeps exchanges, queues (ready and unacknowledged messages, consumers) and bindings,
//! behaves as RabbitMQ does where the protocols depend on it (conditional deletes, what a
//! delete does to held messages, 404/406 answers, quorum queues refusing `if-empty`), and
//! injects a fault at any chosen operation: a refusal, or the connection lost for good (the
//! run dies there, as if apply were killed).
//!
//! Every message has an id; the fake records every message it destroyed, so that a test can
//! assert that none was.

use std::collections::{BTreeMap, VecDeque};

use crate::broker::executor::{DeleteQueue, Executor, Op, OpError, Proof, QueueStatus, Vacated};
use crate::model::DestinationType;
use crate::spec::{BindingSpec, ConnectionSpecs, ExchangeSpec, QueueSpec, QueueType, Usage};

/// A fault to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The broker refuses the operation (the channel closes; the connection lives).
    Refuse,
    /// The connection is lost: this operation and every later one fail.
    Lose,
}

#[derive(Clone, Debug)]
struct Queue {
    spec: QueueSpec,
    ready: VecDeque<u64>,
    /// Delivered to a consumer, not acknowledged.
    unacked: Vec<u64>,
    /// Connection names of attached consumers.
    consumers: Vec<String>,
}

/// Traffic between operations: publishes `(exchange, routing key)` after each operation.
pub type Traffic = Vec<(String, String)>;

#[derive(Clone, Debug, Default)]
pub struct FakeBroker {
    exchanges: BTreeMap<String, ExchangeSpec>,
    queues: BTreeMap<String, Queue>,
    bindings: Vec<BindingSpec>,
    next_id: u64,
    /// Operations performed so far (each message moved counts as one).
    pub calls: usize,
    /// Inject `Fault` at operation number `n` (0-based).
    pub fault_at: Option<(usize, Fault)>,
    lost: bool,
    /// Quorum queues cannot be declared or used (the cluster lost its quorum).
    pub quorum_lost: bool,
    /// Published after every operation.
    pub traffic: Traffic,
    /// Ids of every message published (through an exchange or straight to a queue).
    pub published: Vec<u64>,
    /// Ids of messages published that no queue received.
    pub unroutable: Vec<u64>,
    /// Ids of messages the broker destroyed (a queue deleted while holding them).
    pub destroyed: Vec<u64>,
}

fn refused(code: u16, text: impl Into<String>) -> OpError {
    OpError::Refused {
        code,
        text: text.into(),
    }
}

impl FakeBroker {
    pub fn new() -> FakeBroker {
        FakeBroker::default()
    }

    /// A new run over the same broker: faults cleared, connection back.
    pub fn heal(&mut self) {
        self.fault_at = None;
        self.lost = false;
        self.traffic.clear();
    }

    pub fn declare_exchange(&mut self, e: ExchangeSpec) {
        self.exchanges.insert(e.name.to_string(), e);
    }

    pub fn declare_queue(&mut self, q: QueueSpec) {
        self.queues.insert(
            q.name.to_string(),
            Queue {
                spec: q,
                ready: VecDeque::new(),
                unacked: Vec::new(),
                consumers: Vec::new(),
            },
        );
    }

    pub fn bind(&mut self, b: BindingSpec) {
        if !self.bindings.contains(&b) {
            self.bindings.push(b);
        }
    }

    /// Publishes through an exchange (direct match on the routing key, `#` matches all).
    pub fn publish(&mut self, exchange: &str, routing_key: &str) -> u64 {
        let id = self.new_id();
        let targets = self.route(exchange, routing_key, 0);
        if targets.is_empty() {
            self.unroutable.push(id);
        }
        for q in targets {
            if let Some(queue) = self.queues.get_mut(&q) {
                queue.ready.push_back(id);
            }
        }
        id
    }

    /// Publishes straight to a queue (the default exchange).
    pub fn publish_to_queue(&mut self, queue: &str) -> u64 {
        let id = self.new_id();
        match self.queues.get_mut(queue) {
            Some(q) => q.ready.push_back(id),
            None => self.unroutable.push(id),
        }
        id
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.published.push(self.next_id);
        self.next_id
    }

    fn route(&self, exchange: &str, key: &str, depth: usize) -> Vec<String> {
        let mut out = Vec::new();
        if depth > 8 || !self.exchanges.contains_key(exchange) {
            return out;
        }
        for b in &self.bindings {
            let k = &b.key;
            if k.source != exchange || !(k.routing_key == key || k.routing_key == "#") {
                continue;
            }
            match k.destination_type {
                DestinationType::Queue => {
                    if !out.contains(&k.destination.to_string()) {
                        out.push(k.destination.to_string());
                    }
                }
                DestinationType::Exchange => {
                    for q in self.route(&k.destination, key, depth + 1) {
                        if !out.contains(&q) {
                            out.push(q);
                        }
                    }
                }
            }
        }
        out
    }

    /// A consumer on `connection` attaches to `queue` and takes up to `n` messages, which it
    /// holds unacknowledged.
    pub fn consume(&mut self, queue: &str, connection: &str, n: usize) {
        let q = self.queues.get_mut(queue).expect("the test's queue exists");
        q.consumers.push(connection.to_string());
        for _ in 0..n {
            match q.ready.pop_front() {
                Some(id) => q.unacked.push(id),
                None => break,
            }
        }
    }

    /// Every consumer of `queue` cancels, keeping the messages it holds unacknowledged (its
    /// channel still open, as after `basic.cancel`, or `basic.get` without ack).
    pub fn consumers_cancel(&mut self, queue: &str) {
        if let Some(q) = self.queues.get_mut(queue) {
            q.consumers.clear();
        }
    }

    /// Every consumer of `queue` leaves, handing its messages back (requeued).
    pub fn consumers_leave(&mut self, queue: &str) {
        if let Some(q) = self.queues.get_mut(queue) {
            q.consumers.clear();
            let back: Vec<u64> = q.unacked.drain(..).collect();
            for id in back.into_iter().rev() {
                q.ready.push_front(id);
            }
        }
    }

    /// Every message on the broker, ready or held.
    pub fn all_messages(&self) -> Vec<u64> {
        let mut all: Vec<u64> = self
            .queues
            .values()
            .flat_map(|q| q.ready.iter().chain(q.unacked.iter()).copied())
            .collect();
        all.sort_unstable();
        all
    }

    /// Messages of one queue, ready or held.
    pub fn messages(&self, queue: &str) -> usize {
        self.queues
            .get(queue)
            .map(|q| q.ready.len() + q.unacked.len())
            .unwrap_or(0)
    }

    pub fn queue(&self, name: &str) -> Option<&QueueSpec> {
        self.queues.get(name).map(|q| &q.spec)
    }

    pub fn exchange(&self, name: &str) -> Option<&ExchangeSpec> {
        self.exchanges.get(name)
    }

    pub fn bindings(&self) -> &[BindingSpec] {
        &self.bindings
    }

    pub fn queue_names(&self) -> Vec<String> {
        self.queues.keys().cloned().collect()
    }

    /// What a state read (the management API's definitions) would show, with each queue's
    /// usage as the state reader fills it in.
    pub fn snapshot(&self) -> ConnectionSpecs {
        ConnectionSpecs {
            exchanges: self.exchanges.values().cloned().collect(),
            queues: self
                .queues
                .values()
                .map(|q| QueueSpec {
                    usage: Usage {
                        messages: Some(q.ready.len() as u64),
                        unacked: Some(q.unacked.len() as u64),
                        consumers: Some(q.consumers.len() as u64),
                    },
                    ..q.spec.clone()
                })
                .collect(),
            bindings: self.bindings.clone(),
        }
    }

    /// Counts an operation; injects the fault when its number comes; sends traffic.
    fn step(&mut self) -> Result<(), OpError> {
        if self.lost {
            return Err(OpError::Lost("connection lost (injected)".into()));
        }
        let n = self.calls;
        self.calls += 1;
        for (exchange, key) in self.traffic.clone() {
            self.publish(&exchange, &key);
        }
        match self.fault_at {
            Some((at, Fault::Refuse)) if at == n => Err(refused(541, "INTERNAL_ERROR (injected)")),
            Some((at, Fault::Lose)) if at == n => {
                self.lost = true;
                Err(OpError::Lost("connection lost (injected)".into()))
            }
            _ => Ok(()),
        }
    }

    fn destroy(&mut self, name: &str) {
        if let Some(q) = self.queues.remove(name) {
            self.destroyed
                .extend(q.ready.iter().chain(q.unacked.iter()));
        }
        self.bindings.retain(|b| {
            !(b.key.destination_type == DestinationType::Queue && b.key.destination == name)
        });
    }

    fn check_quorum(&self, q: &QueueSpec) -> Result<(), OpError> {
        if self.quorum_lost && q.queue_type() == QueueType::Quorum {
            return Err(OpError::Lost(format!(
                "queue `{}`: no answer within the deadline (no quorum)",
                q.name
            )));
        }
        Ok(())
    }

    fn apply_op(&mut self, op: &Op) -> Result<(), OpError> {
        match op {
            Op::DeclareExchange(e) => match self.exchanges.get(e.name.as_str()) {
                Some(have) if have != e => {
                    Err(refused(406, "PRECONDITION_FAILED - inequivalent arg"))
                }
                Some(_) => Ok(()),
                None => {
                    self.exchanges.insert(e.name.to_string(), e.clone());
                    Ok(())
                }
            },
            Op::DeleteExchange(name) => {
                self.exchanges.remove(name);
                self.bindings.retain(|b| {
                    !(b.key.source == *name
                        || (b.key.destination_type == DestinationType::Exchange
                            && b.key.destination == *name))
                });
                Ok(())
            }
            Op::DeclareQueue(q) => match self.queues.get(q.name.as_str()) {
                Some(have) => {
                    self.check_quorum(&have.spec)?;
                    if have.spec.same_definition(q) {
                        Ok(())
                    } else {
                        Err(refused(406, "PRECONDITION_FAILED - inequivalent arg"))
                    }
                }
                None => {
                    self.check_quorum(q)?;
                    self.declare_queue(q.clone());
                    Ok(())
                }
            },
            Op::Bind(b) => {
                let k = &b.key;
                let dest_exists = match k.destination_type {
                    DestinationType::Queue => self.queues.contains_key(k.destination.as_str()),
                    DestinationType::Exchange => {
                        self.exchanges.contains_key(k.destination.as_str())
                    }
                };
                if !self.exchanges.contains_key(k.source.as_str()) || !dest_exists {
                    return Err(refused(404, "NOT_FOUND"));
                }
                self.bind(b.clone());
                Ok(())
            }
            Op::Unbind(b) => {
                self.bindings.retain(|x| x != b);
                Ok(())
            }
        }
    }
}

impl Executor for FakeBroker {
    async fn run(&mut self, op: &Op) -> Result<(), OpError> {
        self.step()?;
        self.apply_op(op)
    }

    async fn delete_queue(&mut self, name: &str, how: DeleteQueue) -> Result<(), OpError> {
        self.step()?;
        let Some(q) = self.queues.get(name) else {
            return Ok(());
        };
        match how {
            DeleteQueue::IfUnusedAndEmpty => {
                if q.spec.queue_type() != QueueType::Classic {
                    self.lost = true;
                    return Err(OpError::Lost(
                        "540 NOT_IMPLEMENTED - if_empty not supported (connection closed)".into(),
                    ));
                }
                // As RabbitMQ: if-empty counts ready messages only, if-unused consumers.
                if !q.ready.is_empty() || !q.consumers.is_empty() {
                    return Err(refused(
                        406,
                        "PRECONDITION_FAILED - queue in use or not empty",
                    ));
                }
            }
            DeleteQueue::AfterChecks => self.check_quorum(&q.spec.clone())?,
        }
        self.destroy(name);
        Ok(())
    }

    async fn queue_status(&mut self, name: &str) -> Result<Option<QueueStatus>, OpError> {
        self.step()?;
        Ok(self.queues.get(name).map(|q| QueueStatus {
            ready: q.ready.len() as u64,
            consumers: q.consumers.len() as u64,
            unacked: Some(q.unacked.len() as u64),
            consumer_connections: q.consumers.clone(),
        }))
    }

    async fn queue_definition(&mut self, name: &str) -> Result<Option<QueueSpec>, OpError> {
        self.step()?;
        Ok(self.queues.get(name).map(|q| q.spec.clone()))
    }

    async fn queue_bindings(&mut self, name: &str) -> Result<Vec<BindingSpec>, OpError> {
        self.step()?;
        Ok(self
            .bindings
            .iter()
            .filter(|b| {
                b.key.destination_type == DestinationType::Queue && b.key.destination == name
            })
            .cloned()
            .collect())
    }

    async fn exchange_bindings(&mut self, name: &str) -> Result<Vec<BindingSpec>, OpError> {
        self.step()?;
        Ok(self
            .bindings
            .iter()
            .filter(|b| {
                b.key.source == name
                    || (b.key.destination_type == DestinationType::Exchange
                        && b.key.destination == name)
            })
            .cloned()
            .collect())
    }

    /// One message at a time, each one operation: published to `to` (confirmed), then
    /// acknowledged in `from`. A fault between the two leaves the message in both (a
    /// duplicate, never a loss), as with the real broker.
    async fn move_messages(&mut self, from: &str, to: &str) -> Result<u64, OpError> {
        self.step()?;
        for name in [from, to] {
            let q = self
                .queues
                .get(name)
                .ok_or_else(|| refused(404, format!("NOT_FOUND - no queue '{name}'")))?;
            self.check_quorum(&q.spec.clone())?;
        }
        let mut moved = 0;
        loop {
            let Some(id) = self.queues.get(from).and_then(|q| q.ready.front().copied()) else {
                return Ok(moved);
            };
            if let Some(q) = self.queues.get_mut(to) {
                q.ready.push_back(id);
            }
            // A fault here: the copy is confirmed, the original not acknowledged.
            self.step()?;
            if let Some(q) = self.queues.get_mut(from) {
                q.ready.pop_front();
            }
            moved += 1;
        }
    }

    async fn vacate(&mut self, queue: &str, into: Option<&str>) -> Result<Vacated, OpError> {
        self.step()?;
        let q = self
            .queues
            .get(queue)
            .ok_or_else(|| refused(404, format!("NOT_FOUND - no queue '{queue}'")))?;
        self.check_quorum(&q.spec.clone())?;
        if !q.consumers.is_empty() {
            let who = q.consumers.clone();
            return Ok(Vacated {
                moved: 0,
                proof: Proof::Consumers(who),
            });
        }
        let moved = match into {
            Some(to) => self.move_messages(queue, to).await?,
            None => 0,
        };
        let q = &self.queues[queue];
        let proof = if !q.ready.is_empty() {
            Proof::NotEmpty(q.ready.len() as u64)
        } else if !q.unacked.is_empty() {
            Proof::Unacked(q.unacked.len() as u64)
        } else {
            Proof::Vacant
        };
        Ok(Vacated { moved, proof })
    }

    async fn recreate_exchange(
        &mut self,
        spec: &ExchangeSpec,
        bindings: &[BindingSpec],
    ) -> Result<(), OpError> {
        self.step()?;
        self.apply_op(&Op::DeleteExchange(spec.name.to_string()))?;
        self.step()?;
        self.apply_op(&Op::DeclareExchange(spec.clone()))?;
        for b in bindings {
            self.step()?;
            self.apply_op(&Op::Bind(b.clone()))?;
        }
        Ok(())
    }
}
