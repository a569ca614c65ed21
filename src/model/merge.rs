//! Merging: the per-file declarations → one [`Topology`], exactly as Magento merges them.
//!
//! - Exchanges match on (name, connection), the connection defaulting to
//!   `--default-connection`; bindings inside an exchange on `id`; arguments on `name`.
//!   A later file's attributes override; children merge; anything unmatched is appended.
//! - Then, as Magento's converter does, bindings are keyed anew by
//!   (destinationType, destination, topic): two ids with the same key collapse, the later
//!   winning (reported as `binding-collapsed`).
//! - Every binding to a queue, enabled or not, infers a durable, not auto-delete queue on its
//!   exchange's connection with the binding's arguments; with `communication.xml` present, a
//!   `responseQueue.<topic>` for each synchronous topic it routes too. When several bindings
//!   infer one queue with different arguments the last wins (`inferred-queue-arguments`).
//! - A first-class `<queue>` whose (name, connection) equals an inferred queue's, exactly,
//!   replaces it. The same name on two connections is reported (`queue-in-two-connections`).
//! - A string holding an integer, for an argument RabbitMQ requires to be an integer, is
//!   sent as an integer (`string-as-integer`).

use rustc_hash::FxHashMap as HashMap;

use crate::communication::{SyncTopics, response_queue_name};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Arguments, Binding, DestinationType, Exchange, Origin, Queue, Topology, Value};
use crate::rules::is_integer_queue_arg;
use crate::schema::{BindingDecl, ExchangeDecl, FileDecl, QueueDecl};
use crate::source::Spanned;

/// What merging needs.
pub struct MergeInput<'a> {
    /// Each file's declarations, in merge order (later wins).
    pub files: Vec<FileDecl>,
    /// The connection of an exchange or queue that names none.
    pub default_connection: &'a str,
    /// Synchronous topics from `communication.xml` (empty when there is none).
    pub sync_topics: &'a SyncTopics,
}

type Key = (String, String);

/// Merges every file. Returns the topology and what merging found worth saying.
pub fn merge(input: MergeInput<'_>) -> (Topology, Vec<Diagnostic>) {
    let default = input.default_connection;
    let mut diagnostics = Vec::new();

    let mut exchanges: Vec<(ExchangeDecl, HashMap<String, usize>)> = Vec::new();
    let mut exchange_index: HashMap<Key, usize> = HashMap::default();
    let mut queues: Vec<QueueDecl> = Vec::new();
    let mut queue_index: HashMap<Key, usize> = HashMap::default();

    for file in input.files {
        for decl in file.exchanges {
            let key = (
                decl.name.value.clone(),
                connection_of(&decl.connection, default),
            );
            match exchange_index.get(&key) {
                Some(&i) => merge_exchange(&mut exchanges[i], decl),
                None => {
                    exchange_index.insert(key, exchanges.len());
                    let ids = decl
                        .bindings
                        .iter()
                        .enumerate()
                        .map(|(i, b)| (b.id.value.clone(), i))
                        .collect();
                    exchanges.push((decl, ids));
                }
            }
        }
        for decl in file.queues {
            let key = (
                decl.name.value.clone(),
                connection_of(&decl.connection, default),
            );
            match queue_index.get(&key) {
                Some(&i) => merge_queue(&mut queues[i], decl),
                None => {
                    queue_index.insert(key, queues.len());
                    queues.push(decl);
                }
            }
        }
    }

    let mut topology = Topology::default();
    for (decl, _) in exchanges {
        let (exchange, bindings) = finish_exchange(decl, default, &mut diagnostics);
        topology.exchanges.push(exchange);
        topology.bindings.extend(bindings);
    }
    let (inferred, index) = infer_queues(&topology, input.sync_topics, &mut diagnostics);
    topology.queues = inferred;
    apply_first_class(&mut topology.queues, index, queues, default);
    warn_two_connections(&topology.queues, &mut diagnostics);
    for queue in &mut topology.queues {
        coerce_integers(&mut queue.arguments, &queue.name.value, &mut diagnostics);
    }
    (topology, diagnostics)
}

fn connection_of(c: &Option<Spanned<String>>, default: &str) -> String {
    c.as_ref()
        .map(|c| c.value.clone())
        .unwrap_or_else(|| default.to_string())
}

fn override_some<T>(into: &mut Option<T>, from: Option<T>) {
    if from.is_some() {
        *into = from;
    }
}

fn merge_arguments(into: &mut Arguments, from: Arguments) {
    for arg in from.0 {
        into.upsert(arg);
    }
}

fn merge_exchange(into: &mut (ExchangeDecl, HashMap<String, usize>), from: ExchangeDecl) {
    let (ex, ids) = into;
    override_some(&mut ex.kind, from.kind);
    override_some(&mut ex.durable, from.durable);
    override_some(&mut ex.auto_delete, from.auto_delete);
    override_some(&mut ex.internal, from.internal);
    override_some(&mut ex.connection, from.connection);
    merge_arguments(&mut ex.arguments, from.arguments);
    for binding in from.bindings {
        match ids.get(&binding.id.value) {
            Some(&i) => merge_binding(&mut ex.bindings[i], binding),
            None => {
                ids.insert(binding.id.value.clone(), ex.bindings.len());
                ex.bindings.push(binding);
            }
        }
    }
}

fn merge_binding(into: &mut BindingDecl, from: BindingDecl) {
    override_some(&mut into.destination_type, from.destination_type);
    override_some(&mut into.destination, from.destination);
    override_some(&mut into.topic, from.topic);
    override_some(&mut into.disabled, from.disabled);
    merge_arguments(&mut into.arguments, from.arguments);
}

fn merge_queue(into: &mut QueueDecl, from: QueueDecl) {
    override_some(&mut into.connection, from.connection);
    override_some(&mut into.durable, from.durable);
    override_some(&mut into.auto_delete, from.auto_delete);
    merge_arguments(&mut into.arguments, from.arguments);
}

/// Applies defaults, then keys bindings anew by (destinationType, destination, topic).
fn finish_exchange(
    decl: ExchangeDecl,
    default: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Exchange, Vec<Binding>) {
    let at = decl.span;
    let connection = decl
        .connection
        .unwrap_or_else(|| Spanned::new(default.to_string(), at));
    let exchange = Exchange {
        kind: decl
            .kind
            .unwrap_or_else(|| Spanned::new("topic".into(), at)),
        durable: decl.durable.unwrap_or_else(|| Spanned::new(true, at)),
        auto_delete: decl.auto_delete.unwrap_or_else(|| Spanned::new(false, at)),
        internal: decl.internal.unwrap_or_else(|| Spanned::new(false, at)),
        arguments: decl.arguments,
        name: decl.name,
        connection,
        span: at,
    };
    let mut bindings: Vec<Binding> = Vec::new();
    let mut by_key: HashMap<(DestinationType, String, String), usize> = HashMap::default();
    for b in decl.bindings {
        let Some(destination) = b.destination else {
            diagnostics.push(
                Diagnostic::error(
                    Code::MissingAttribute,
                    format!(
                        "binding `{}` of exchange `{}` has no destination, in any file",
                        b.id.value, exchange.name.value
                    ),
                )
                .with_label(b.id.span, "this binding needs a `destination` attribute")
                .with_help("a file may leave it out only when another file declaring the same binding id gives it"),
            );
            continue;
        };
        let binding = Binding {
            source: exchange.name.value.clone(),
            connection: exchange.connection.value.clone(),
            destination_type: b
                .destination_type
                .map(|d| d.value)
                .unwrap_or(DestinationType::Queue),
            routing_key: b
                .topic
                .unwrap_or_else(|| Spanned::new(String::new(), b.span)),
            disabled: b.disabled.map(|d| d.value).unwrap_or(false),
            arguments: b.arguments,
            id: b.id,
            destination,
            span: b.span,
        };
        let key = (
            binding.destination_type,
            binding.destination.value.clone(),
            binding.routing_key.value.clone(),
        );
        match by_key.get(&key) {
            Some(&i) => {
                diagnostics.push(
                    Diagnostic::warning(
                        Code::BindingCollapsed,
                        format!(
                            "bindings `{}` and `{}` both bind `{}` to `{}` with topic `{}`: Magento keeps only the later",
                            bindings[i].id.value,
                            binding.id.value,
                            exchange.name.value,
                            binding.destination.value,
                            binding.routing_key.value
                        ),
                    )
                    .with_label(binding.id.span, "this binding wins")
                    .with_label(bindings[i].id.span, "this one is dropped"),
                );
                bindings[i] = binding;
            }
            None => {
                by_key.insert(key, bindings.len());
                bindings.push(binding);
            }
        }
    }
    (exchange, bindings)
}

/// Magento's inferred queues, in the order Magento builds them (last write wins in place).
fn infer_queues(
    topology: &Topology,
    sync: &SyncTopics,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Vec<Queue>, HashMap<Key, usize>) {
    let mut queues: Vec<Queue> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::default();
    let mut put = |queue: Queue, binding: &Binding, diagnostics: &mut Vec<Diagnostic>| {
        let key = (queue.name.value.clone(), queue.connection.value.clone());
        match index.get(&key) {
            Some(&i) => {
                let old = &queues[i];
                if !old.arguments.same_values(&queue.arguments) {
                    diagnostics.push(
                        Diagnostic::warning(
                            Code::InferredQueueArguments,
                            format!(
                                "bindings give queue `{}` different arguments: Magento silently keeps the last ones",
                                queue.name.value
                            ),
                        )
                        .with_label(binding.destination.span, "these arguments win")
                        .with_label(old.name.span, "these are dropped")
                        .with_help("declare the queue with a first-class <queue> element to say which arguments it has"),
                    );
                }
                queues[i] = queue;
            }
            None => {
                index.insert(key, queues.len());
                queues.push(queue);
            }
        }
    };
    for binding in &topology.bindings {
        if binding.destination_type != DestinationType::Queue {
            continue;
        }
        let inferred = |name: String, origin: Origin| Queue {
            name: Spanned::new(name, binding.destination.span),
            connection: Spanned::new(binding.connection.clone(), binding.span),
            durable: Spanned::new(true, binding.span),
            auto_delete: Spanned::new(false, binding.span),
            arguments: binding.arguments.clone(),
            origin,
            span: binding.span,
        };
        for topic in sync.synchronous_for(&binding.routing_key.value) {
            put(
                inferred(response_queue_name(topic), Origin::Response),
                binding,
                diagnostics,
            );
        }
        put(
            inferred(binding.destination.value.clone(), Origin::Binding),
            binding,
            diagnostics,
        );
    }
    (queues, index)
}

/// First-class queues replace inferred ones of the same (name, connection), exactly.
/// `index`: (name, connection) → position in `queues`.
fn apply_first_class(
    queues: &mut Vec<Queue>,
    index: HashMap<Key, usize>,
    decls: Vec<QueueDecl>,
    default: &str,
) {
    for decl in decls {
        let at = decl.span;
        let queue = Queue {
            connection: decl
                .connection
                .unwrap_or_else(|| Spanned::new(default.to_string(), at)),
            durable: decl.durable.unwrap_or_else(|| Spanned::new(true, at)),
            auto_delete: decl.auto_delete.unwrap_or_else(|| Spanned::new(false, at)),
            arguments: decl.arguments,
            origin: Origin::Queue,
            name: decl.name,
            span: at,
        };
        match index.get(&(queue.name.value.clone(), queue.connection.value.clone())) {
            Some(&i) => queues[i] = queue,
            None => queues.push(queue),
        }
    }
}

fn warn_two_connections(queues: &[Queue], diagnostics: &mut Vec<Diagnostic>) {
    let mut by_name: HashMap<&str, Vec<&Queue>> = HashMap::default();
    for q in queues {
        by_name.entry(&q.name.value).or_default().push(q);
    }
    let mut names: Vec<_> = by_name.into_iter().filter(|(_, v)| v.len() > 1).collect();
    names.sort_by_key(|(n, _)| *n);
    for (name, mut list) in names {
        list.sort_by(|a, b| a.connection.value.cmp(&b.connection.value));
        for (i, a) in list.iter().enumerate() {
            for b in &list[i + 1..] {
                diagnostics.push(
                    Diagnostic::warning(
                        Code::TwoConnections,
                        format!(
                            "`{name}` is defined in two connections: `{}` and `{}`. If this is intentional, this message can be ignored.",
                            a.connection.value, b.connection.value
                        ),
                    )
                    .with_label(a.name.span, format!("on `{}`", a.connection.value))
                    .with_label(b.name.span, format!("on `{}`", b.connection.value)),
                );
            }
        }
    }
}

fn coerce_integers(args: &mut Arguments, queue: &str, diagnostics: &mut Vec<Diagnostic>) {
    for arg in &mut args.0 {
        if !is_integer_queue_arg(&arg.name.value) {
            continue;
        }
        let Value::Str(s) = &arg.value else { continue };
        let Ok(i) = s.trim().parse::<i64>() else {
            continue;
        };
        diagnostics.push(
            Diagnostic::warning(
                Code::StringAsInteger,
                format!(
                    "`{}` of queue `{queue}` is given as the string \"{s}\": it is sent as the integer {i}",
                    arg.name.value
                ),
            )
            .with_label(arg.value_span, "a string here")
            .with_help("write xsi:type=\"number\"; RabbitMQ refuses a string for this argument"),
        );
        arg.value = Value::Int(i);
    }
}
