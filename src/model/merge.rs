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
//! - Every argument value that is numeric in PHP's sense is sent as PHP's `(int)` of it,
//!   whatever its name and `xsi:type`, as Magento does (`string-as-integer` where a string
//!   becomes an integer or the value changes; see [`crate::arguments::php`]).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::arguments::php::{PhpInt, php_int};
use crate::communication::{SyncTopics, response_queue_name};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{
    Arguments, Binding, DestinationType, Exchange, Name, Origin, Queue, Topology, Value,
};
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

type Key = (Name, Name);

/// While bindings are converted, the freed declarations are handed back each time this
/// many bytes of bindings were made.
const GIVE_BACK_EVERY: usize = 4 * 1024 * 1024;

/// Merges every file. Returns the topology and what merging found worth saying.
pub fn merge(input: MergeInput<'_>) -> (Topology, Vec<Diagnostic>) {
    let default = input.default_connection;
    let mut diagnostics = Vec::new();

    // Stage 1, Magento's DOM merge (Config/Dom.php): an <exchange> matches an earlier one
    // on its `name` AND `connection` attributes; one without a `connection` attribute
    // matches nothing and stays a separate element.
    let mut elements: Vec<(ExchangeDecl, HashMap<Name, usize>)> = Vec::new();
    let mut element_index: HashMap<Key, usize> = HashMap::default();
    let mut queues: Vec<QueueDecl> = Vec::new();
    let mut queue_index: HashMap<Key, usize> = HashMap::default();

    for file in input.files {
        for decl in file.exchanges {
            let dom_key = decl
                .connection
                .as_ref()
                .map(|c| (decl.name.value.clone(), c.value.clone()));
            match dom_key.as_ref().and_then(|k| element_index.get(k)) {
                Some(&i) => merge_exchange(&mut elements[i], decl),
                None => {
                    if let Some(k) = dom_key {
                        element_index.insert(k, elements.len());
                    }
                    let ids = decl
                        .bindings
                        .iter()
                        .enumerate()
                        .map(|(i, b)| (b.id.value.clone(), i))
                        .collect();
                    elements.push((decl, ids));
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

    // Stage 2, Magento's converter (Topology/Config/Xml/Converter.php): elements keyed by
    // name and effective connection; a later element's attributes replace the earlier ones
    // (defaults for what it leaves out); its bindings and arguments are merged in when it
    // has some, and when it has none the earlier ones are dropped.
    // The converted bindings go to one list, allocated once to its size (an upper bound:
    // a binding without destination is dropped), each exchange's a run of it: no second
    // copy of every binding is made to flatten per-exchange lists.
    let mut flat: Vec<Binding> =
        Vec::with_capacity(elements.iter().map(|(e, _)| e.bindings.len()).sum());
    let mut converted: Vec<(Exchange, Run)> = Vec::new();
    let mut given_back_at = 0;
    let mut converted_index: HashMap<Key, usize> = HashMap::default();
    for (decl, _) in elements {
        let without_connection = decl.connection.is_none();
        // Magento counts the element's <binding>s, also those it will refuse later.
        let declares_bindings = !decl.bindings.is_empty();
        let key = (
            decl.name.value.clone(),
            connection_of(&decl.connection, default),
        );
        // The binding ids of an earlier element this one was not DOM-merged with.
        let earlier_ids: HashSet<Name> = converted_index
            .get(&key)
            .map(|&i| {
                converted[i]
                    .1
                    .bindings(&flat)
                    .iter()
                    .map(|b| b.id.value.clone())
                    .collect()
            })
            .unwrap_or_default();
        let unmerged = Unmerged {
            ids: &earlier_ids,
            connection: &key.1,
        };
        let start = flat.len();
        let exchange = finish_exchange(decl, default, unmerged, &mut flat, &mut diagnostics);
        // The declarations converted so far are freed: handed back as the list grows (else
        // both would be resident at the end).
        if (flat.len() - given_back_at) * std::mem::size_of::<Binding>() >= GIVE_BACK_EVERY {
            given_back_at = flat.len();
            crate::memory::give_back_freed();
        }
        match converted_index.get(&key) {
            Some(&i) => {
                let bindings: Vec<Binding> = flat.drain(start..).collect();
                let (earlier, run) = &mut converted[i];
                warn_converter_merge(
                    earlier,
                    run.bindings(&flat),
                    &exchange,
                    declares_bindings,
                    without_connection,
                    &mut diagnostics,
                );
                let bindings = if !declares_bindings {
                    Vec::new()
                } else {
                    merge_bindings(run.take(&flat), bindings)
                };
                let mut exchange = exchange;
                if !exchange.arguments.is_empty() {
                    let mut args = std::mem::take(&mut earlier.arguments);
                    merge_arguments(&mut args, std::mem::take(&mut exchange.arguments));
                    exchange.arguments = args;
                }
                converted[i] = (exchange, Run::Own(bindings));
            }
            None => {
                converted_index.insert(key, converted.len());
                converted.push((exchange, Run::Flat(start..flat.len())));
            }
        }
    }
    let mut topology = Topology::default();
    (topology.exchanges, topology.bindings) = Run::assemble(converted, flat);
    let first_class = FirstClass {
        decls: queues,
        default,
    };
    topology.queues = infer_queues(&topology, input.sync_topics, first_class, &mut diagnostics);
    warn_two_connections(&topology.queues, &mut diagnostics);
    // The queues' indexes are freed: handed back before lint makes its own.
    crate::memory::give_back_after(topology.bindings.len() * std::mem::size_of::<Binding>());
    // (Each owner's name is made only for a warning: a million of them cost more than the
    // rest of the loop.)
    for queue in &mut topology.queues {
        let owner = || format!("queue `{}`", queue.name.value);
        coerce_numeric(&mut queue.arguments, owner, &mut diagnostics);
    }
    for exchange in &mut topology.exchanges {
        let owner = || format!("exchange `{}`", exchange.name.value);
        coerce_numeric(&mut exchange.arguments, owner, &mut diagnostics);
    }
    for binding in &mut topology.bindings {
        let owner = || {
            format!(
                "binding `{} -> {} [{}]`",
                binding.source, binding.destination.value, binding.routing_key.value
            )
        };
        coerce_numeric(&mut binding.arguments, owner, &mut diagnostics);
    }
    (topology, diagnostics)
}

fn connection_of(c: &Option<Spanned<Name>>, default: &str) -> Name {
    c.as_ref()
        .map(|c| c.value.clone())
        .unwrap_or_else(|| default.into())
}

fn override_some<T>(into: &mut Option<T>, from: Option<T>) {
    if from.is_some() {
        *into = from;
    }
}

fn merge_arguments(into: &mut Arguments, from: Arguments) {
    for arg in from {
        into.upsert(arg);
    }
}

fn merge_exchange(into: &mut (ExchangeDecl, HashMap<Name, usize>), from: ExchangeDecl) {
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

/// PHP's `array_merge` of the converter's binding arrays: keyed by (destinationType,
/// destination, topic), the later replacing an earlier one in its place.
fn merge_bindings(earlier: Vec<Binding>, later: Vec<Binding>) -> Vec<Binding> {
    let key = |b: &Binding| {
        (
            b.destination_type.value,
            b.destination.value.clone(),
            b.routing_key.value.clone(),
        )
    };
    let mut out = earlier;
    let mut index: HashMap<_, usize> = out.iter().enumerate().map(|(i, b)| (key(b), i)).collect();
    for b in later {
        match index.get(&key(&b)) {
            Some(&i) => out[i] = b,
            None => {
                index.insert(key(&b), out.len());
                out.push(b);
            }
        }
    }
    out
}

/// Says where Magento's converter surprises: an <exchange> that the DOM merge kept apart
/// (no `connection` attribute) replaces the earlier one's attributes, and drops its
/// bindings or arguments when it has none of its own.
fn warn_converter_merge(
    earlier: &Exchange,
    earlier_bindings: &[Binding],
    later: &Exchange,
    declares_bindings: bool,
    without_connection: bool,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let name = &later.name.value;
    let fix = format!(
        "add connection=\"{}\" to both <exchange name=\"{name}\"> elements: Magento then merges them attribute by attribute and binding by binding",
        later.connection.value
    );
    if !declares_bindings && !earlier_bindings.is_empty() {
        diagnostics.push(
            Diagnostic::warning(
                Code::ExchangeReplaced,
                format!(
                    "this <exchange name=\"{name}\"> has no bindings: Magento drops the {} declared for it before",
                    crate::text::count(earlier_bindings.len() as u64, "binding")
                ),
            )
            .with_label(later.name.span, "its bindings replace the earlier ones: none")
            .with_label(earlier.name.span, "these bindings are dropped")
            .with_help(fix.clone()),
        );
    }
    if later.arguments.is_empty() && !earlier.arguments.is_empty() {
        diagnostics.push(
            Diagnostic::warning(
                Code::ExchangeReplaced,
                format!(
                    "this <exchange name=\"{name}\"> has no arguments: Magento drops the arguments declared for it before"
                ),
            )
            .with_label(later.name.span, "no <arguments> here")
            .with_label(earlier.name.span, "these arguments are dropped")
            .with_help(fix.clone()),
        );
    }
    if without_connection {
        let changed: Vec<&str> = [
            ("type", earlier.kind.value != later.kind.value),
            ("durable", earlier.durable.value != later.durable.value),
            (
                "autoDelete",
                earlier.auto_delete.value != later.auto_delete.value,
            ),
            ("internal", earlier.internal.value != later.internal.value),
        ]
        .into_iter()
        .filter(|(_, differs)| *differs)
        .map(|(n, _)| n)
        .collect();
        if !changed.is_empty() {
            diagnostics.push(
                Diagnostic::warning(
                    Code::ExchangeReplaced,
                    format!(
                        "Magento does not merge this <exchange name=\"{name}\"> with the earlier one (it has no `connection` attribute): its attributes replace theirs, defaults included ({})",
                        changed.join(", ")
                    ),
                )
                .with_label(later.name.span, "a separate element for Magento")
                .with_label(earlier.name.span, "declared before")
                .with_help(fix),
            );
        }
    }
}

/// Where a converted exchange's bindings are: a run of the one list of bindings, or, once
/// the converter merged two elements (rare), a list of their own.
enum Run {
    Flat(std::ops::Range<usize>),
    Own(Vec<Binding>),
}

impl Run {
    fn bindings<'a>(&'a self, flat: &'a [Binding]) -> &'a [Binding] {
        match self {
            Run::Flat(range) => &flat[range.clone()],
            Run::Own(list) => list,
        }
    }

    /// The bindings, taken (a run of the flat list is copied: it is left unused there).
    fn take(&mut self, flat: &[Binding]) -> Vec<Binding> {
        match self {
            Run::Flat(range) => flat[range.clone()].to_vec(),
            Run::Own(list) => std::mem::take(list),
        }
    }

    /// The exchanges and their bindings in order: the flat list as it is when every
    /// exchange's bindings are its runs, one after the other; else moved into a new list.
    fn assemble(
        converted: Vec<(Exchange, Run)>,
        flat: Vec<Binding>,
    ) -> (Vec<Exchange>, Vec<Binding>) {
        let mut next = 0;
        let in_place = converted.iter().all(|(_, run)| match run {
            Run::Flat(range) if range.start == next => {
                next = range.end;
                true
            }
            _ => false,
        }) && next == flat.len();
        if in_place {
            return (converted.into_iter().map(|(e, _)| e).collect(), flat);
        }
        let total = converted
            .iter()
            .map(|(_, run)| run.bindings(&flat).len())
            .sum();
        let mut flat: Vec<Option<Binding>> = flat.into_iter().map(Some).collect();
        let mut bindings = Vec::with_capacity(total);
        let mut exchanges = Vec::with_capacity(converted.len());
        for (exchange, run) in converted {
            exchanges.push(exchange);
            match run {
                Run::Flat(range) => {
                    bindings.extend(flat[range].iter_mut().filter_map(Option::take))
                }
                Run::Own(list) => bindings.extend(list),
            }
        }
        (exchanges, bindings)
    }
}

/// The binding ids of an earlier `<exchange>` of the same name and connection that Magento
/// did not DOM-merge with this one (one of them has no `connection` attribute).
struct Unmerged<'a> {
    ids: &'a HashSet<Name>,
    connection: &'a str,
}

/// Applies defaults, then keys bindings anew by (destinationType, destination, topic); the
/// bindings are appended to `bindings`.
fn finish_exchange(
    decl: ExchangeDecl,
    default: &str,
    unmerged: Unmerged<'_>,
    bindings: &mut Vec<Binding>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Exchange {
    let at = decl.span;
    let connection = decl
        .connection
        .unwrap_or_else(|| Spanned::new(default.into(), at));
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
    let mut by_key: HashMap<(DestinationType, Name, Name), usize> =
        HashMap::with_capacity_and_hasher(decl.bindings.len(), Default::default());
    for b in decl.bindings {
        let Some(destination) = b.destination else {
            let help = if unmerged.ids.contains(&b.id.value) {
                format!(
                    "an earlier <exchange name=\"{0}\"> declares binding `{1}`, but Magento does not merge the two elements (one has no `connection` attribute), so this is a second binding without destination and Magento refuses the whole topology; add connection=\"{2}\" to both <exchange name=\"{0}\"> elements",
                    exchange.name.value, b.id.value, unmerged.connection
                )
            } else {
                "a file may leave it out only when another file declaring the same binding id (in an <exchange> with the same `connection` attribute) gives it".to_string()
            };
            diagnostics.push(
                Diagnostic::error(
                    Code::MissingAttribute,
                    format!(
                        "binding `{}` of exchange `{}` has no destination, in any file",
                        b.id.value, exchange.name.value
                    ),
                )
                .with_label(b.id.span, "this binding needs a `destination` attribute")
                .with_help(help),
            );
            continue;
        };
        let binding = Binding {
            source: exchange.name.value.clone(),
            connection: exchange.connection.value.clone(),
            destination_type: b
                .destination_type
                .unwrap_or_else(|| Spanned::new(DestinationType::Queue, b.span)),
            topic_given: b.topic.is_some(),
            routing_key: b.topic.unwrap_or_else(|| Spanned::new(Name::new(), b.span)),
            disabled: b.disabled.map(|d| d.value).unwrap_or(false),
            arguments: b.arguments,
            id: b.id,
            destination,
            span: b.span,
        };
        let key = (
            binding.destination_type.value,
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
    exchange
}

/// Magento's inferred queues, in the order Magento builds them (last write wins in place).
///
/// Each binding to a queue writes its queue, and before it the response queue of each
/// synchronous topic its topic designates. A queue written by bindings with different
/// arguments gets one `inferred-queue-arguments` warning, however many bindings write it:
/// B wildcard bindings over T synchronous topics gave B·T warnings (1,000 × 1,000: 408 MB
/// of JSON).
fn infer_queues(
    topology: &Topology,
    sync: &SyncTopics,
    first_class: FirstClass<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Queue> {
    /// One inferred queue: who wrote it last, and what it dropped (bindings by position:
    /// one of these for each queue of a million).
    struct Slot<'a> {
        name: &'a Name,
        binding: u32,
        origin: Origin,
        /// The binding of the last write whose arguments differ from the write before.
        won: u32,
        /// Writes whose arguments differ from the write before.
        changes: u32,
        /// The binding of the first write whose arguments were dropped, and when.
        dropped: Option<(u32, usize)>,
    }
    let bindings = &topology.bindings;
    // Response queue names once per synchronous topic, wildcard topics matched once each.
    let response: HashMap<&str, Name> = if sync.is_empty() {
        HashMap::default()
    } else {
        sync.synchronous()
            .map(|t| (t, response_queue_name(t).into()))
            .collect()
    };
    let mut designated: HashMap<&str, Vec<&str>> = HashMap::default();
    let mut slots: Vec<Slot> = Vec::with_capacity(bindings.len());
    let mut index: HashMap<(&str, &str), usize> =
        HashMap::with_capacity_and_hasher(bindings.len(), Default::default());
    let mut writes = 0;
    for (b, binding) in (0u32..).zip(bindings) {
        if binding.destination_type.value != DestinationType::Queue {
            continue;
        }
        let connection = binding.connection.as_str();
        let topics: &[&str] = if response.is_empty() {
            &[]
        } else {
            designated
                .entry(binding.routing_key.value.as_str())
                .or_insert_with_key(|topic| sync.synchronous_for(topic))
        };
        let names = topics
            .iter()
            .map(|t| (&response[t], Origin::Response))
            .chain([(&binding.destination.value, Origin::Binding)]);
        for (name, origin) in names {
            writes += 1;
            match index.get(&(name.as_str(), connection)) {
                Some(&i) => {
                    let slot = &mut slots[i];
                    let before = slot.binding;
                    if before != b
                        && !bindings[before as usize]
                            .arguments
                            .same_values(&binding.arguments)
                    {
                        slot.changes += 1;
                        slot.won = b;
                        slot.dropped.get_or_insert((before, writes));
                    }
                    slot.binding = b;
                    slot.origin = origin;
                }
                None => {
                    index.insert((name.as_str(), connection), slots.len());
                    slots.push(Slot {
                        name,
                        binding: b,
                        origin,
                        won: b,
                        changes: 0,
                        dropped: None,
                    });
                }
            }
        }
    }
    let mut conflicts: Vec<&Slot> = slots.iter().filter(|s| s.dropped.is_some()).collect();
    conflicts.sort_by_key(|s| s.dropped.map(|(_, when)| when));
    for slot in conflicts {
        let (dropped, _) = slot.dropped.expect("filtered above");
        let more = match slot.changes {
            1 => String::new(),
            n => format!(" (their arguments change {n} times)"),
        };
        diagnostics.push(
            Diagnostic::warning(
                Code::InferredQueueArguments,
                format!(
                    "bindings give queue `{}` different arguments: Magento silently keeps the last ones{more}",
                    slot.name
                ),
            )
            .with_label(bindings[slot.won as usize].destination.span, "these arguments win")
            .with_label(bindings[dropped as usize].destination.span, "these are dropped")
            .with_help("declare the queue with a first-class <queue> element to say which arguments it has"),
        );
    }
    // Where each first-class queue goes, found before the inferred queues are made: the
    // index is freed first (with a million queues, each of the two weighs tens of megabytes).
    let first_class = first_class.queues();
    let places: Vec<Option<usize>> = first_class
        .iter()
        .map(|q| {
            let key = (q.name.value.as_str(), q.connection.value.as_str());
            index.get(&key).copied()
        })
        .collect();
    drop(index);
    let appended = places.iter().filter(|p| p.is_none()).count();
    let mut queues: Vec<Queue> = Vec::with_capacity(slots.len() + appended);
    queues.extend(slots.iter().map(|slot| {
        let binding = &bindings[slot.binding as usize];
        Queue {
            name: Spanned::new(slot.name.clone(), binding.destination.span),
            connection: Spanned::new(binding.connection.clone(), binding.span),
            durable: Spanned::new(true, binding.span),
            auto_delete: Spanned::new(false, binding.span),
            arguments: binding.arguments.clone(),
            origin: slot.origin,
            span: binding.span,
        }
    }));
    drop(slots);
    // First-class queues replace inferred ones of the same (name, connection), exactly;
    // the others come after them.
    for (queue, place) in first_class.into_iter().zip(places) {
        match place {
            Some(i) => queues[i] = queue,
            None => queues.push(queue),
        }
    }
    queues
}

/// The first-class `<queue>`s, merged, and the connection of those that name none.
struct FirstClass<'a> {
    decls: Vec<QueueDecl>,
    default: &'a str,
}

impl FirstClass<'_> {
    /// The first-class queues, defaults applied, in declaration order.
    fn queues(self) -> Vec<Queue> {
        let mut queues = Vec::with_capacity(self.decls.len());
        for decl in self.decls {
            let at = decl.span;
            let queue = Queue {
                connection: decl
                    .connection
                    .unwrap_or_else(|| Spanned::new(self.default.into(), at)),
                durable: decl.durable.unwrap_or_else(|| Spanned::new(true, at)),
                auto_delete: decl.auto_delete.unwrap_or_else(|| Spanned::new(false, at)),
                arguments: decl.arguments,
                origin: Origin::Queue,
                name: decl.name,
                span: at,
            };
            queues.push(queue);
        }
        queues
    }
}

/// One warning per queue name found on several connections, naming them all (one per pair
/// of connections gave K(K-1)/2 warnings: 3,000 connections from a 107 KB file filled 8 GiB).
fn warn_two_connections(queues: &[Queue], diagnostics: &mut Vec<Diagnostic>) {
    // How many queues have each name (no list per name: a million names, nearly all once).
    let mut count: HashMap<&str, u32> =
        HashMap::with_capacity_and_hasher(queues.len(), Default::default());
    for q in queues {
        *count.entry(&q.name.value).or_default() += 1;
    }
    let mut by_name: HashMap<&str, Vec<&Queue>> = HashMap::default();
    for q in queues.iter().filter(|q| count[q.name.value.as_str()] > 1) {
        by_name.entry(&q.name.value).or_default().push(q);
    }
    let mut names: Vec<_> = by_name.into_iter().collect();
    names.sort_by_key(|(n, _)| *n);
    for (name, mut list) in names {
        list.sort_by(|a, b| a.connection.value.cmp(&b.connection.value));
        let connections: Vec<String> = list
            .iter()
            .map(|q| format!("`{}`", q.connection.value))
            .collect();
        let (last, rest) = connections.split_last().expect("two or more");
        let how_many = match list.len() {
            2 => "two".to_string(),
            n => n.to_string(),
        };
        let mut d = Diagnostic::warning(
            Code::TwoConnections,
            format!(
                "`{name}` is defined in {how_many} connections: {} and {last}. If this is intentional, this message can be ignored.",
                rest.join(", ")
            ),
        );
        for q in &list[..2] {
            d = d.with_label(q.name.span, format!("on `{}`", q.connection.value));
        }
        diagnostics.push(d);
    }
}

/// Magento sends every argument whose value is numeric in PHP's sense as PHP's `(int)` of
/// it, whatever its name and `xsi:type` (`Amqp/Topology/ArgumentProcessor`): the model
/// holds what is sent, and a warning says so where a string becomes an integer or the value
/// changes (`1.5` → 1). Array items are sent as they are.
fn coerce_numeric<F>(args: &mut Arguments, owner: F, diagnostics: &mut Vec<Diagnostic>)
where
    F: Fn() -> String,
{
    // Values are replaced after the look (a list shared with a binding is copied only when
    // one of them changes).
    let mut replaced = Vec::new();
    for (position, arg) in args.iter().enumerate() {
        let (text, written_as_string) = match &arg.value {
            Value::Str(s) => (s.clone(), true),
            Value::Float(f) => (f.to_string(), false),
            _ => continue,
        };
        let (name, value_span) = (&arg.name.value, arg.value_span);
        match php_int(&text) {
            PhpInt::NotNumeric => {}
            PhpInt::Int { value, exact } => {
                if written_as_string || !exact {
                    let what = if written_as_string {
                        format!("the string \"{text}\"")
                    } else {
                        text.clone()
                    };
                    let help = if exact {
                        "write xsi:type=\"number\" to say what is sent".to_string()
                    } else {
                        format!("write the integer you mean ({value}, or another)")
                    };
                    diagnostics.push(
                        Diagnostic::warning(
                            Code::StringAsInteger,
                            format!(
                                "`{name}` of {} is {what}: Magento sends PHP's (int) of every numeric argument, the integer {value}",
                                owner()
                            ),
                        )
                        .with_label(
                            value_span,
                            if written_as_string {
                                "a string here"
                            } else {
                                "a fraction here"
                            },
                        )
                        .with_help(help),
                    );
                }
                replaced.push((position, Value::Int(value)));
            }
            PhpInt::OutOfRange => diagnostics.push(
                Diagnostic::error(
                    Code::InvalidNumber,
                    format!(
                        "`{name}` of {} is {text}: beyond a 64-bit integer, and Magento sends PHP's (int) of it, which is undefined",
                        owner()
                    ),
                )
                .with_label(value_span, "out of range"),
            ),
        }
    }
    for (position, value) in replaced {
        args.set_value(position, value);
    }
}

#[cfg(test)]
mod tests {
    //! Magento's merge (Config/Dom.php, then Topology/Config/Xml/Converter.php) and argument
    //! typing (Amqp/Topology/ArgumentProcessor), one rule per test.

    use crate::diagnostic::{Code, Diagnostic};
    use crate::load::{Loaded, load};
    use crate::model::Value;

    /// Loads `files` (in merge order) from a temporary tree.
    fn loaded(files: &[&str]) -> Loaded {
        let dir = tempfile::tempdir().unwrap();
        for (i, body) in files.iter().enumerate() {
            let etc = dir.path().join(format!("M{i}/etc"));
            std::fs::create_dir_all(&etc).unwrap();
            std::fs::write(
                etc.join("queue_topology.xml"),
                format!(
                    "<config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">{body}</config>"
                ),
            )
            .unwrap();
        }
        load(
            &[dir.path().to_path_buf()],
            &crate::load::Options::with_default_connection("amqp"),
        )
        .unwrap()
    }

    fn codes(d: &[Diagnostic]) -> Vec<Code> {
        d.iter().map(|d| d.code).collect()
    }

    /// Dom.php matches <exchange> on `name` AND `connection`: without `connection` nothing
    /// matches, and the converter then lets the later element replace the earlier one's
    /// attributes (defaults included) and, having no bindings, drop its bindings.
    #[test]
    fn an_exchange_without_connection_replaces_and_drops_bindings() {
        let l = loaded(&[
            r#"<exchange name="ex"><binding id="a" topic="t" destination="q"/></exchange>"#,
            r#"<exchange name="ex" durable="false"/>"#,
        ]);
        let ex = &l.topology.exchanges;
        assert_eq!(ex.len(), 1);
        assert!(!ex[0].durable.value);
        assert!(l.topology.bindings.is_empty(), "Magento drops them");
        assert_eq!(
            codes(&l.diagnostics),
            [Code::ExchangeReplaced, Code::ExchangeReplaced]
        );
        assert!(
            l.diagnostics[0]
                .help
                .as_deref()
                .unwrap()
                .contains("connection=\"amqp\"")
        );
    }

    /// With `connection` on both, Dom.php merges them: attributes override one by one,
    /// bindings by id, and nothing is dropped.
    #[test]
    fn exchanges_naming_their_connection_merge_binding_by_binding() {
        let l = loaded(&[
            r#"<exchange name="ex" connection="amqp"><binding id="a" topic="t" destination="q"/></exchange>"#,
            r#"<exchange name="ex" connection="amqp" durable="false"><binding id="b" topic="u" destination="q"/></exchange>"#,
        ]);
        assert!(!l.topology.exchanges[0].durable.value);
        assert_eq!(l.topology.bindings.len(), 2);
        assert!(l.diagnostics.is_empty(), "{:?}", codes(&l.diagnostics));
    }

    /// A later element with bindings merges them into the earlier ones (array_merge keyed by
    /// destinationType--destination--topic) even without `connection`; its attributes still
    /// replace the earlier ones with defaults: `type` falls back to topic.
    #[test]
    fn a_later_element_with_bindings_merges_them_and_resets_attributes() {
        let l = loaded(&[
            r#"<exchange name="ex" type="direct"><binding id="a" topic="t" destination="q"/></exchange>"#,
            r#"<exchange name="ex"><binding id="z" topic="u" destination="q"/></exchange>"#,
        ]);
        assert_eq!(l.topology.bindings.len(), 2);
        assert_eq!(l.topology.exchanges[0].kind.value, "topic");
        assert_eq!(codes(&l.diagnostics), [Code::ExchangeReplaced]);
    }

    /// The bindings are listed exchange by exchange, in each exchange's merged order, also
    /// when the converter merged an exchange declared between others: its bindings are
    /// where its first element was, the earlier ones first, a replaced one in its place.
    #[test]
    fn bindings_stay_in_exchange_order_around_a_converter_merge() {
        let l = loaded(&[
            r#"<exchange name="a" connection="amqp"><binding id="a1" topic="t" destination="qa"/></exchange>
               <exchange name="ex"><binding id="e1" topic="t" destination="q1"/><binding id="e2" topic="t" destination="q2"/></exchange>
               <exchange name="z" connection="amqp"><binding id="z1" topic="t" destination="qz"/></exchange>"#,
            r#"<exchange name="ex"><binding id="e3" topic="t" destination="q3"/><binding id="e2b" topic="t" destination="q2"/></exchange>"#,
        ]);
        let ids: Vec<&str> = l
            .topology
            .bindings
            .iter()
            .map(|b| b.id.value.as_str())
            .collect();
        assert_eq!(ids, ["a1", "e1", "e2b", "e3", "z1"]);
        let sources: Vec<&str> = l
            .topology
            .bindings
            .iter()
            .map(|b| b.source.as_str())
            .collect();
        assert_eq!(sources, ["a", "ex", "ex", "ex", "z"]);
        let exchanges: Vec<&str> = l
            .topology
            .exchanges
            .iter()
            .map(|e| e.name.value.as_str())
            .collect();
        assert_eq!(exchanges, ["a", "ex", "z"]);
    }

    /// A "disable this binding" override written without `connection` is a second element
    /// for Dom.php: its binding has no destination nor topic, and Magento's validators refuse
    /// the whole topology. The error says why and what fixes it.
    #[test]
    fn an_override_without_connection_is_a_second_binding() {
        let l = loaded(&[
            r#"<exchange name="ex" connection="amqp"><binding id="a" topic="t" destination="q"/></exchange>"#,
            r#"<exchange name="ex"><binding id="a" disabled="true"/></exchange>"#,
        ]);
        assert_eq!(codes(&l.diagnostics), [Code::MissingAttribute]);
        let help = l.diagnostics[0].help.as_deref().unwrap();
        assert!(
            help.contains("does not merge") && help.contains("add connection=\"amqp\" to both"),
            "{help}"
        );
        // With `connection` on both, it is the same binding, disabled.
        let l = loaded(&[
            r#"<exchange name="ex" connection="amqp"><binding id="a" topic="t" destination="q"/></exchange>"#,
            r#"<exchange name="ex" connection="amqp"><binding id="a" disabled="true"/></exchange>"#,
        ]);
        assert!(l.diagnostics.is_empty(), "{:?}", codes(&l.diagnostics));
        assert!(l.topology.bindings[0].disabled);
    }

    /// The merged XSD keys exchanges on name and connection and ignores elements without
    /// `connection`: the same exchange twice in one file is valid then.
    #[test]
    fn the_same_exchange_twice_without_connection_in_one_file_is_valid() {
        let l = loaded(&[
            r#"<exchange name="ex"><binding id="a" topic="t" destination="q"/></exchange>
               <exchange name="ex"><binding id="b" topic="u" destination="q"/></exchange>"#,
        ]);
        assert!(!l.diagnostics.iter().any(|d| d.code == Code::DuplicateId));
        assert_eq!(l.topology.bindings.len(), 2);
    }

    /// The converter reads each <arguments> block anew: the last one wins.
    #[test]
    fn a_second_arguments_block_replaces_the_first() {
        let l = loaded(&[
            r#"<exchange name="ex" connection="amqp"><arguments><argument name="alternate-exchange" xsi:type="string">ae</argument></arguments>
               <arguments><argument name="x-other" xsi:type="string">o</argument></arguments></exchange>"#,
        ]);
        let args = &l.topology.exchanges[0].arguments;
        assert!(args.get("alternate-exchange").map(|a| &a.value).is_none());
        assert_eq!(
            args.get("x-other").map(|a| &a.value),
            Some(&Value::Str("o".into()))
        );
        assert_eq!(codes(&l.diagnostics), [Code::ArgumentsReplaced]);
    }

    /// ArgumentProcessor sends (int) of every numeric value, whatever its name and type, on
    /// exchanges, bindings and queues; array items as they are.
    #[test]
    fn numeric_values_are_sent_as_php_ints_everywhere() {
        let l = loaded(&[r#"<exchange name="ex" connection="amqp">
                 <arguments><argument name="x-custom" xsi:type="string">25</argument>
                   <argument name="x-list" xsi:type="array"><item name="a" xsi:type="string">7</item></argument></arguments>
                 <binding id="a" topic="t" destination="q"><arguments><argument name="x-n" xsi:type="string">1e3</argument></arguments></binding>
               </exchange>
               <queue name="q"><arguments><argument name="x-message-ttl" xsi:type="number">1.5</argument></arguments></queue>"#]);
        let ex = &l.topology.exchanges[0].arguments;
        assert_eq!(ex.get("x-custom").map(|a| &a.value), Some(&Value::Int(25)));
        assert_eq!(
            ex.get("x-list").map(|a| &a.value),
            Some(&Value::Array(vec![Value::Str("7".into())]))
        );
        assert_eq!(
            l.topology.bindings[0]
                .arguments
                .get("x-n")
                .map(|a| &a.value),
            Some(&Value::Int(1000))
        );
        assert_eq!(
            l.topology.queues[0]
                .arguments
                .get("x-message-ttl")
                .map(|a| &a.value),
            Some(&Value::Int(1))
        );
        let warned = l
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::StringAsInteger)
            .count();
        assert_eq!(warned, 3, "each string made an integer, and 1.5 made 1");
    }
}
