//! The plan against no broker (`plan --offline`): the model's exchanges, queues and enabled
//! bindings → every one a `create`, in plan order. Takes the merged
//! [`Topology`](crate::model::Topology) and its connections; gives its [`OfflineOrder`]
//! (positions only, made beside lint), and from it either each change on demand
//! ([`Offline::entity`], what the human plan writes its lines from) or the whole [`Plan`]
//! ([`Offline::plan`], for JSON, Markdown and saved plans).

use std::sync::Arc;

use super::{Action, Change, Entity, EntityKind, Plan};

/// Topologies from this many entities have their plan against nothing made by every core.
const AGAINST_NOTHING_IN_PARALLEL_FROM: usize = 20_000;

/// The order of the plan against no broker: the positions of the topology's exchanges,
/// queues and enabled bindings, each kind sorted by (connection, name). What
/// [`Offline::plan`] makes its changes from, and what the human offline plan writes its
/// lines from without making them ([`Offline`]).
#[derive(Debug)]
pub struct OfflineOrder {
    order: crate::model::Order,
    /// The topology's connections, sorted: each entity's shares its name from here.
    connections: Vec<Arc<str>>,
}

impl OfflineOrder {
    /// The order of `topology`'s entities; `connections`: its
    /// [`Topology::connections`](crate::model::Topology::connections).
    pub fn of(topology: &crate::model::Topology, connections: &[String]) -> OfflineOrder {
        // Both orders at once only where the files were large enough to start rayon's pool:
        // a small plan starts no thread.
        let entities = topology.exchanges.len() + topology.queues.len() + topology.bindings.len();
        let (mut order, bindings) = if entities < AGAINST_NOTHING_IN_PARALLEL_FROM {
            (
                topology.entity_order(connections),
                topology.binding_order(connections),
            )
        } else {
            rayon::join(
                || topology.entity_order(connections),
                || topology.binding_order(connections),
            )
        };
        order.bindings = bindings;
        OfflineOrder {
            order,
            connections: connections.iter().map(|c| Arc::from(c.as_str())).collect(),
        }
    }
}

/// The plan against no broker of a topology, in [`OfflineOrder`]: each change made when it
/// is asked for.
pub struct Offline<'t> {
    topology: &'t crate::model::Topology,
    order: OfflineOrder,
}

impl<'t> Offline<'t> {
    /// `order` must be the [`OfflineOrder`] of `topology`.
    pub fn new(topology: &'t crate::model::Topology, order: OfflineOrder) -> Offline<'t> {
        Offline { topology, order }
    }

    /// How many changes: every exchange, queue and enabled binding.
    pub fn len(&self) -> usize {
        let o = &self.order.order;
        o.exchanges.len() + o.queues.len() + o.bindings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The topology's connections, sorted.
    pub fn connections(&self) -> &[Arc<str>] {
        &self.order.connections
    }

    /// The positions of `kind`'s entities on `connection` in the topology's lists, in plan
    /// order (a run of the kind's order: it is sorted by connection first).
    pub fn positions(&self, kind: EntityKind, connection: &str) -> &[u32] {
        let all: &[u32] = match kind {
            EntityKind::Exchange => &self.order.order.exchanges,
            EntityKind::Queue => &self.order.order.queues,
            EntityKind::Binding => &self.order.order.bindings,
        };
        let on = |i: u32| self.connection_of(kind, i);
        let start = all.partition_point(|&i| on(i) < connection);
        let end = start + all[start..].partition_point(|&i| on(i) == connection);
        &all[start..end]
    }

    /// The connection of the entity of `kind` at `position` in the topology's lists.
    fn connection_of(&self, kind: EntityKind, position: u32) -> &'t str {
        let (t, i) = (self.topology, position as usize);
        match kind {
            EntityKind::Exchange => &t.exchanges[i].connection.value,
            EntityKind::Queue => &t.queues[i].connection.value,
            EntityKind::Binding => &t.bindings[i].connection,
        }
    }

    /// The entity of `kind` at `position` in the topology's lists, as its change creates it.
    pub fn entity(&self, kind: EntityKind, position: u32) -> Entity {
        let t = self.topology;
        let i = position as usize;
        match kind {
            EntityKind::Exchange => Entity::Exchange(crate::spec::exchange_spec(&t.exchanges[i])),
            EntityKind::Queue => Entity::Queue(crate::spec::queue_spec(&t.queues[i])),
            EntityKind::Binding => Entity::Binding(crate::spec::binding_spec(&t.bindings[i])),
        }
    }

    /// The plan of the topology against no broker (`plan --offline`) made whole: every
    /// entity a `create`, in plan order. The same plan as [`plan`](super::plan()) of the
    /// topology's specs with every connection offline, made from the model at once: no specs
    /// made first and moved after (at 100,000 bindings, 17 MB written once less), the changes
    /// written in place by every core for a large topology.
    pub fn plan(&self) -> Plan {
        let order = &self.order.order;
        let connection = |name: &str| -> Arc<str> {
            let at = self
                .order
                .connections
                .binary_search_by(|c| (**c).cmp(name))
                .expect("every entity's connection is in Topology::connections");
            self.order.connections[at].clone()
        };
        let (exchanges, queues) = (order.exchanges.len(), order.queues.len());
        let make = |k: usize| -> Change {
            let (kind, position) = if k < exchanges {
                (EntityKind::Exchange, order.exchanges[k])
            } else if k < exchanges + queues {
                (EntityKind::Queue, order.queues[k - exchanges])
            } else {
                (EntityKind::Binding, order.bindings[k - exchanges - queues])
            };
            Change {
                action: Action::Create,
                connection: connection(self.connection_of(kind, position)),
                entity: self.entity(kind, position),
                reason: None,
                differences: Vec::new(),
            }
        };
        let all = self.len();
        let mut changes = Vec::with_capacity(all);
        if all < AGAINST_NOTHING_IN_PARALLEL_FROM {
            changes.extend((0..all).map(make));
        } else {
            use rayon::prelude::*;
            (0..all)
                .into_par_iter()
                .map(make)
                .collect_into_vec(&mut changes);
        }
        Plan {
            changes,
            unmanaged: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::state::ConnectionState;
    use crate::plan::plan;

    /// The plan against nothing, made whole from the model at once, is the plan of the model's
    /// specs with every connection offline: on every fixture (some with two connections,
    /// some with errors) and on a topology large enough to be made by every core.
    #[test]
    fn against_nothing_is_the_offline_plan_of_the_specs() {
        let large = crate::load::test_tree::two_connections(30, 400, 300);
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut dirs: Vec<std::path::PathBuf> = std::fs::read_dir(&fixtures)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dirs.sort();
        dirs.push(large.path().to_path_buf());
        let mut sizes = Vec::new();
        for dir in dirs {
            let options = crate::load::Options::with_default_connection("amqp");
            let Ok(loaded) = crate::load::load(std::slice::from_ref(&dir), &options) else {
                continue;
            };
            let topology = &loaded.topology;
            let desired = crate::spec::desired_by_connection(topology);
            let states = desired
                .keys()
                .map(|c| (c.clone(), ConnectionState::Offline))
                .collect();
            let want = plan(desired, &states, false);
            let connections = topology.connections();
            let got = Offline::new(topology, OfflineOrder::of(topology, &connections)).plan();
            assert_eq!(got, want, "{}", dir.display());
            sizes.push(got.changes.len());
        }
        assert!(sizes.len() >= 10, "{sizes:?}");
        assert!(
            sizes.iter().any(|&n| n >= AGAINST_NOTHING_IN_PARALLEL_FROM),
            "{sizes:?}"
        );
    }
}
