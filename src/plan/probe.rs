//! Planning one connection read with AMQP probes only (no management API): what a passive
//! declare and an equivalence redeclare can tell, bindings `unverified`.

use super::{Action, Change, Difference, Entity};
use crate::broker::state::{Probe, Probed};
use crate::spec::{ConnectionSpecs, Usage};

pub(super) fn plan_probed(
    connection: &str,
    want: &ConnectionSpecs,
    probed: &Probed,
    changes: &mut Vec<Change>,
) {
    let mut push = |mut entity: Entity, probe: Option<&Probe>, usage: Option<Usage>| {
        let (action, reason, differences) = match probe {
            None | Some(Probe::Missing) => (Action::Create, None, Vec::new()),
            Some(Probe::Same) => (Action::Unchanged, None, Vec::new()),
            Some(Probe::Differs(answer)) => {
                let mut reason = format!("the broker refuses our declaration: {answer}");
                if let (Entity::Queue(q), Some(u)) = (&mut entity, usage) {
                    q.usage = u;
                    reason.push_str(
                        "; replacing a queue needs the management API (to see its bindings and unacknowledged messages)",
                    );
                }
                (
                    Action::Replace,
                    Some(reason),
                    vec![Difference {
                        property: "equivalence".into(),
                        broker: None,
                        ours: None,
                    }],
                )
            }
        };
        changes.push(Change {
            action,
            connection: connection.into(),
            entity,
            reason,
            differences,
        });
    };
    for e in &want.exchanges {
        push(
            Entity::Exchange(e.clone()),
            probed.exchanges.get(e.name.as_str()),
            None,
        );
    }
    for q in &want.queues {
        let (probe, usage) = match probed.queues.get(q.name.as_str()) {
            Some((p, u)) => (Some(p), Some(*u)),
            None => (None, None),
        };
        push(Entity::Queue(q.clone()), probe, usage);
    }
    // Bindings cannot be seen without the management API. Binding again is harmless when the
    // binding exists with the same arguments encoded the same way (signed 64-bit integers).
    for b in &want.bindings {
        changes.push(Change {
            action: Action::Unverified,
            connection: connection.into(),
            entity: Entity::Binding(b.clone()),
            reason: Some(
                "AMQP probes cannot see bindings: apply binds it (harmless when it exists)"
                    .to_string(),
            ),
            differences: Vec::new(),
        });
    }
}
