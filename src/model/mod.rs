//! Model stage: the one true model of a topology, as Magento's installer would declare it.
//!
//! Takes: the per-file declarations of the `schema` stage, in merge order. Gives: a
//! [`Topology`] of [`Exchange`]s, [`Queue`]s and [`Binding`]s (see [`merge`]), each value
//! keeping the [`Span`] of the file and attribute that gave it, so that a diagnostic about
//! a merged entity points at the place at fault.

pub mod merge;

use crate::source::{Span, Spanned};

pub use crate::arguments::{Argument, Arguments, Value};
pub use crate::schema::{DestinationType, Name};

pub use merge::{MergeInput, merge};

/// An exchange after merging, defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    pub name: Spanned<Name>,
    pub connection: Spanned<Name>,
    /// `topic`, `direct`, `fanout`, `headers` or an `x-…` plugin type (checked by lint).
    pub kind: Spanned<Name>,
    pub durable: Spanned<bool>,
    pub auto_delete: Spanned<bool>,
    pub internal: Spanned<bool>,
    pub arguments: Arguments,
    /// The `<exchange>` tag that first declared it.
    pub span: Span,
}

/// Where a queue comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A first-class `<queue>` element.
    Queue,
    /// Inferred from a binding's destination (Magento's behaviour).
    Binding,
    /// Magento's `responseQueue.<topic>` for a synchronous topic.
    Response,
}

impl Origin {
    /// The contract's `origin` (a response queue is inferred from a binding too).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Queue => "queue",
            Origin::Binding | Origin::Response => "binding",
        }
    }
}

/// A queue after merging.
#[derive(Clone, Debug, PartialEq)]
pub struct Queue {
    pub name: Spanned<Name>,
    pub connection: Spanned<Name>,
    pub durable: Spanned<bool>,
    pub auto_delete: Spanned<bool>,
    pub arguments: Arguments,
    pub origin: Origin,
    pub span: Span,
}

/// A binding after merging. Disabled bindings stay in the model (their queue is still
/// declared) but are not bound.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub id: Spanned<Name>,
    pub source: Name,
    pub connection: Name,
    /// Spanned at the binding element when the attribute is not written.
    pub destination_type: Spanned<DestinationType>,
    pub destination: Spanned<Name>,
    pub routing_key: Spanned<Name>,
    /// Whether a `topic` attribute was written (an empty routing key otherwise). Magento
    /// refuses a binding of a topic exchange without one.
    pub topic_given: bool,
    pub disabled: bool,
    pub arguments: Arguments,
    pub span: Span,
}

impl Binding {
    /// Source, destination and routing key: the parts of the binding's name.
    pub fn name_parts(&self) -> [&str; 3] {
        [
            &self.source,
            &self.destination.value,
            &self.routing_key.value,
        ]
    }

    /// The contract's display name: `source -> destination [routing_key]`.
    pub fn display_name(&self) -> String {
        binding_name(self.name_parts()).concat()
    }
}

/// The merged topology of every file, in declaration order (renderers sort).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Topology {
    pub exchanges: Vec<Exchange>,
    pub queues: Vec<Queue>,
    pub bindings: Vec<Binding>,
}

impl Topology {
    /// Every connection named by an entity, sorted.
    pub fn connections(&self) -> Vec<String> {
        // Deduplicated first: a million queues name a handful of connections.
        let unique: rustc_hash::FxHashSet<&str> = self
            .exchanges
            .iter()
            .map(|e| e.connection.value.as_str())
            .chain(self.queues.iter().map(|q| q.connection.value.as_str()))
            .collect();
        let mut names: Vec<String> = unique.into_iter().map(str::to_string).collect();
        names.sort();
        names
    }

    /// Exchanges sorted by (connection, name), as the plan lists them.
    pub fn sorted_exchanges(&self) -> Vec<&Exchange> {
        let order = self.exchange_order(&self.ranks());
        order.iter().map(|&i| &self.exchanges[i as usize]).collect()
    }

    /// Queues sorted by (connection, name), as the plan lists them.
    pub fn sorted_queues(&self) -> Vec<&Queue> {
        let order = self.queue_order(&self.ranks());
        order.iter().map(|&i| &self.queues[i as usize]).collect()
    }

    /// Each connection's rank: its place in [`Topology::connections`].
    fn ranks(&self) -> impl Fn(&str) -> u32 {
        ranks_in(self.connections())
    }

    fn exchange_order(&self, rank: &impl Fn(&str) -> u32) -> Vec<u32> {
        let e = &self.exchanges;
        by_connection_and_name(e.len(), |i| {
            (rank(&e[i].connection.value), &e[i].name.value)
        })
    }

    fn queue_order(&self, rank: &impl Fn(&str) -> u32) -> Vec<u32> {
        let q = &self.queues;
        by_connection_and_name(q.len(), |i| {
            (rank(&q[i].connection.value), &q[i].name.value)
        })
    }

    /// Enabled bindings sorted by (connection, source, destination, routing key).
    pub fn sorted_bindings(&self) -> Vec<&Binding> {
        let mut v: Vec<_> = self.bindings.iter().filter(|b| !b.disabled).collect();
        v.sort_by(|a, b| binding_key(a).cmp(&binding_key(b)));
        v
    }

    /// Where each entity stands in the order the plan lists them: exchanges and queues by
    /// (connection, name), enabled bindings by connection then name (`source -> destination
    /// [routing key]`, compared as that string; bindings of the same name by their parts).
    pub fn plan_order(&self) -> Order {
        let rank = self.ranks();
        Order {
            exchanges: self.exchange_order(&rank),
            queues: self.queue_order(&rank),
            bindings: self.bindings_by(&rank),
        }
    }

    /// The exchanges' and queues' part of [`Topology::plan_order`] (`bindings` left empty);
    /// `connections`: [`Topology::connections`].
    pub fn entity_order(&self, connections: &[String]) -> Order {
        let rank = ranks_in(connections);
        Order {
            exchanges: self.exchange_order(&rank),
            queues: self.queue_order(&rank),
            bindings: Vec::new(),
        }
    }

    /// The enabled bindings' part of [`Topology::plan_order`]; `connections`:
    /// [`Topology::connections`].
    pub fn binding_order(&self, connections: &[String]) -> Vec<u32> {
        self.bindings_by(&ranks_in(connections))
    }

    fn bindings_by(&self, rank: &impl Fn(&str) -> u32) -> Vec<u32> {
        let b = &self.bindings;
        sorted_by_name(
            b.len(),
            |i| rank(&b[i].connection),
            |i| binding_name(b[i].name_parts()),
            |i| !b[i].disabled,
            |i, j| {
                let (x, y) = (&b[i], &b[j]);
                cmp_binding_names(x.name_parts(), y.name_parts()).then_with(|| {
                    (x.name_parts(), x.destination_type.value)
                        .cmp(&(y.name_parts(), y.destination_type.value))
                })
            },
        )
    }
}

/// Each connection's rank: its place in `connections` (sorted).
fn ranks_in<C: AsRef<[String]>>(connections: C) -> impl Fn(&str) -> u32 {
    move |connection: &str| {
        connections
            .as_ref()
            .binary_search_by(|c| c.as_str().cmp(connection))
            .unwrap_or(0) as u32
    }
}

/// Positions in a [`Topology`]'s lists, in the order the plan lists the entities (see
/// [`Topology::plan_order`]); disabled bindings are left out.
#[derive(Debug, Default)]
pub struct Order {
    pub exchanges: Vec<u32>,
    pub queues: Vec<u32>,
    pub bindings: Vec<u32>,
}

/// A name's sort key: its connection's rank, 16 bytes of the name from an offset
/// (big-endian, zero-padded), and its position.
#[derive(Clone, Copy)]
struct SortKey {
    rank: u32,
    prefix: u128,
    index: u32,
}

/// The positions `0..len` that `keep` keeps, sorted by connection `rank`, then by name (the
/// concatenation of the parts `name` gives), then by `tie`, then by position (a stable
/// order). A string sort by integers, most significant bytes first: the keys are sorted by
/// 16 bytes of the name from where all names start to differ, and each run of keys that tie
/// again by the next 16 bytes, until names end; names equal to their end are ordered by
/// `tie`. Comparing names through pointers, a cache miss each, took most of a plan's sorting
/// at 100,000 bindings; these comparisons read one array.
fn sorted_by_name<'a, const N: usize>(
    len: usize,
    rank: impl Fn(usize) -> u32,
    name: impl Fn(usize) -> [&'a str; N],
    keep: impl Fn(usize) -> bool,
    tie: impl Fn(usize, usize) -> std::cmp::Ordering,
) -> Vec<u32> {
    // The bytes every name starts with tell no two apart: skipped.
    let mut common: Option<Vec<u8>> = None;
    for i in (0..len).filter(|&i| keep(i)) {
        let bytes = name(i).into_iter().flat_map(str::bytes);
        match &mut common {
            None => common = Some(bytes.collect()),
            Some(c) => {
                let same = c.iter().zip(bytes).take_while(|(a, b)| **a == *b).count();
                c.truncate(same);
            }
        }
    }
    let offset = common.map_or(0, |c| c.len());
    let mut keys: Vec<SortKey> = (0..len)
        .filter(|&i| keep(i))
        .map(|i| SortKey {
            rank: rank(i),
            prefix: prefix_at(name(i), offset),
            index: i as u32,
        })
        .collect();
    keys.sort_unstable_by_key(|k| (k.rank, k.prefix, k.index));
    refine(&mut keys, offset, &name, &tie);
    keys.iter().map(|k| k.index).collect()
}

/// Orders each run of `keys` (sorted by rank and the 16 bytes of their names at `offset`)
/// that tie, by the bytes after.
fn refine<'a, const N: usize>(
    keys: &mut [SortKey],
    offset: usize,
    name: &impl Fn(usize) -> [&'a str; N],
    tie: &impl Fn(usize, usize) -> std::cmp::Ordering,
) {
    let mut start = 0;
    while start < keys.len() {
        let first = keys[start];
        let end = start
            + keys[start..]
                .iter()
                .take_while(|k| (k.rank, k.prefix) == (first.rank, first.prefix))
                .count();
        let run = &mut keys[start..end];
        start = end;
        if run.len() < 2 {
            continue;
        }
        let next = offset + 16;
        let longer = |k: &SortKey| {
            name(k.index as usize)
                .iter()
                .map(|p| p.len())
                .sum::<usize>()
                > next
        };
        if run.iter().any(longer) {
            for k in run.iter_mut() {
                k.prefix = prefix_at(name(k.index as usize), next);
            }
            run.sort_unstable_by_key(|k| (k.prefix, k.index));
            refine(run, next, name, tie);
        } else {
            // Equal to their ends, but for trailing NUL bytes the padding hides.
            run.sort_by(|a, b| {
                let (i, j) = (a.index as usize, b.index as usize);
                cmp_concat(&name(i), &name(j))
                    .then_with(|| tie(i, j))
                    .then(i.cmp(&j))
            });
        }
    }
}

/// 16 bytes of the concatenation of `parts` from `offset`, big-endian, zero-padded.
fn prefix_at<const N: usize>(parts: [&str; N], mut offset: usize) -> u128 {
    let mut prefix = [0u8; 16];
    let mut filled = 0;
    for part in parts {
        let bytes = part.as_bytes();
        if offset >= bytes.len() {
            offset -= bytes.len();
            continue;
        }
        let take = (bytes.len() - offset).min(16 - filled);
        prefix[filled..filled + take].copy_from_slice(&bytes[offset..offset + take]);
        filled += take;
        offset = 0;
        if filled == 16 {
            break;
        }
    }
    u128::from_be_bytes(prefix)
}

/// Compares two bindings' names, `source -> destination [routing key]` given as its three
/// parts, as the strings compare, without making them. The first part that differs decides,
/// unless one of the two is a prefix of the other: then what follows it (a separator in one
/// name, more of the part in the other) decides, and the names are compared as a whole.
pub fn cmp_binding_names(a: [&str; 3], b: [&str; 3]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for (x, y) in a.iter().zip(&b) {
        let n = x.len().min(y.len());
        match x.as_bytes()[..n].cmp(&y.as_bytes()[..n]) {
            Ordering::Equal if x.len() == y.len() => continue,
            Ordering::Equal => return cmp_concat(&binding_name(a), &binding_name(b)),
            decided => return decided,
        }
    }
    Ordering::Equal
}

/// A binding's name in parts: `source -> destination [routing key]`.
pub fn binding_name([source, destination, key]: [&str; 3]) -> [&str; 6] {
    [source, " -> ", destination, " [", key, "]"]
}

/// Compares two strings given as the concatenations of their parts, as `str` compares.
pub fn cmp_concat(a: &[&str], b: &[&str]) -> std::cmp::Ordering {
    let mut a = a.iter().map(|s| s.as_bytes()).filter(|s| !s.is_empty());
    let mut b = b.iter().map(|s| s.as_bytes()).filter(|s| !s.is_empty());
    let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
    loop {
        if x.is_empty() {
            x = a.next().unwrap_or_default();
        }
        if y.is_empty() {
            y = b.next().unwrap_or_default();
        }
        if x.is_empty() || y.is_empty() {
            return x.len().cmp(&y.len());
        }
        let n = x.len().min(y.len());
        match x[..n].cmp(&y[..n]) {
            std::cmp::Ordering::Equal => (x, y) = (&x[n..], &y[n..]),
            other => return other,
        }
    }
}

/// The positions `0..len` by (connection rank, name), as `key` gives them.
fn by_connection_and_name<'a>(len: usize, key: impl Fn(usize) -> (u32, &'a str)) -> Vec<u32> {
    sorted_by_name(
        len,
        |i| key(i).0,
        |i| [key(i).1],
        |_| true,
        |a, b| key(a).1.cmp(key(b).1),
    )
}

fn binding_key(b: &Binding) -> (&str, &str, &str, &str, DestinationType) {
    (
        &b.connection,
        &b.source,
        &b.destination.value,
        &b.routing_key.value,
        b.destination_type.value,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Binding names compare as the strings they make, also where a part is a prefix of
    /// another's or holds bytes below the separators (a tab sorts before " -> ").
    #[test]
    fn binding_names_compare_as_their_strings() {
        let words = [
            "", "a", "a\t", "a b", "a -", "a ->", "a -> b", "b", "é", "a!", "]", "a [",
        ];
        let mut names = Vec::new();
        for s in words {
            for d in words {
                for k in ["", "x", "x]", "[", "a"] {
                    names.push([s, d, k]);
                }
            }
        }
        for a in &names {
            for b in &names {
                let string = |p: &[&str; 3]| binding_name(*p).concat();
                assert_eq!(
                    cmp_binding_names(*a, *b),
                    string(a).cmp(&string(b)),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    fn spanned(s: &str) -> Spanned<Name> {
        Spanned::new(s.into(), Span::new(crate::source::FileId(0), 0, 0))
    }

    /// The plan's order is the names' order, whatever the names share: long common prefixes
    /// (the sort keys hold 16 bytes after them), NUL bytes (the keys' padding), parts that
    /// are prefixes of others; by connection first; disabled bindings left out.
    #[test]
    fn plan_order_is_the_order_of_the_names() {
        let long = "shop.inventory.reservations.";
        let words = [
            "", "a", "a\0", "a\0b", "a\t", "a b", "a -", "a ->", "b", "é", "a!",
        ];
        let mut names: Vec<String> = Vec::new();
        for w in words {
            for tail in ["", "x", "xxxxxxxxxxxxxxxxy", "xxxxxxxxxxxxxxxxz", "\0"] {
                names.push(format!("{long}{w}{tail}"));
            }
        }
        let topology = Topology {
            exchanges: Vec::new(),
            queues: names
                .iter()
                .enumerate()
                .rev()
                .map(|(i, n)| Queue {
                    name: spanned(n),
                    connection: spanned(if i % 3 == 0 { "b" } else { "a" }),
                    durable: Spanned::new(true, Span::new(crate::source::FileId(0), 0, 0)),
                    auto_delete: Spanned::new(false, Span::new(crate::source::FileId(0), 0, 0)),
                    arguments: Arguments::default(),
                    origin: Origin::Queue,
                    span: Span::new(crate::source::FileId(0), 0, 0),
                })
                .collect(),
            bindings: Vec::new(),
        };
        let mut bindings = Vec::new();
        for (i, s) in names.iter().enumerate().step_by(7) {
            for d in names.iter().step_by(5) {
                for k in ["", "x", "x]", "["] {
                    bindings.push(Binding {
                        id: spanned("id"),
                        source: s.as_str().into(),
                        connection: if i % 2 == 0 { "a" } else { "b" }.into(),
                        destination_type: Spanned::new(
                            DestinationType::Queue,
                            Span::new(crate::source::FileId(0), 0, 0),
                        ),
                        destination: spanned(d),
                        routing_key: spanned(k),
                        topic_given: true,
                        disabled: k == "[" && d.len() % 2 == 0,
                        arguments: Arguments::default(),
                        span: Span::new(crate::source::FileId(0), 0, 0),
                    });
                }
            }
        }
        bindings.reverse();
        let topology = Topology {
            bindings,
            ..topology
        };
        let order = topology.plan_order();

        let queues: Vec<(&str, &str)> = order
            .queues
            .iter()
            .map(|&i| &topology.queues[i as usize])
            .map(|q| (q.connection.value.as_str(), q.name.value.as_str()))
            .collect();
        let mut want = queues.clone();
        want.sort();
        assert_eq!(queues, want);
        assert_eq!(queues.len(), topology.queues.len());

        let bindings: Vec<(String, String)> = order
            .bindings
            .iter()
            .map(|&i| &topology.bindings[i as usize])
            .map(|b| (b.connection.to_string(), b.display_name()))
            .collect();
        let mut want: Vec<(String, String)> = topology
            .bindings
            .iter()
            .filter(|b| !b.disabled)
            .map(|b| (b.connection.to_string(), b.display_name()))
            .collect();
        want.sort();
        assert_eq!(bindings, want);
    }
}
