//! JSON output: the wire types of the contract (`schemas/*.schema.json` describe them) and
//! their construction from diagnostics, topology and plan. One document per run.

use super::properties::{BindingProperties, ExchangeProperties, QueueProperties};
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::model::{Arguments, Topology, Value};
use crate::plan::{Action, Change, Entity, Plan};
use crate::source::Sources;

/// Borrows from the diagnostic and its file: a million diagnostics cost no copy of their
/// text before they are written.
#[derive(Serialize)]
pub struct DiagnosticJson<'a> {
    pub severity: &'static str,
    pub code: &'static str,
    pub message: &'a str,
    pub file: Option<&'a str>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'a str>,
}

#[derive(Serialize)]
pub struct ExchangeJson<'a> {
    pub connection: &'a str,
    pub name: &'a str,
    #[serde(flatten)]
    pub properties: ExchangeProperties<'a, ArgumentsJson<'a>>,
}

#[derive(Serialize)]
pub struct QueueJson<'a> {
    pub connection: &'a str,
    pub name: &'a str,
    #[serde(flatten)]
    pub properties: QueueProperties<ArgumentsJson<'a>>,
    pub origin: &'static str,
}

#[derive(Serialize)]
pub struct BindingJson<'a> {
    pub connection: &'a str,
    pub source: &'a str,
    #[serde(flatten)]
    pub properties: BindingProperties<'a, ArgumentsJson<'a>>,
}

/// The merged topology, borrowed from the model: written as it is serialized, no copy of
/// a name or an argument made.
#[derive(Serialize)]
pub struct TopologyJson<'a> {
    pub exchanges: Vec<ExchangeJson<'a>>,
    pub queues: Vec<QueueJson<'a>>,
    pub bindings: Vec<BindingJson<'a>>,
}

/// An entity's arguments as a JSON object, keys in byte order (as `serde_json::Map`'s).
pub struct ArgumentsJson<'a>(&'a Arguments);

impl Serialize for ArgumentsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut sorted: Vec<_> = self.0.iter().collect();
        sorted.sort_unstable_by(|a, b| a.name.value.cmp(&b.name.value));
        let mut map = s.serialize_map(Some(sorted.len()))?;
        for a in sorted {
            map.serialize_entry(&a.name.value, &a.value)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
pub struct DifferenceJson {
    pub property: String,
    pub broker: serde_json::Value,
    pub ours: serde_json::Value,
}

#[derive(Serialize)]
pub struct ChangeJson {
    pub action: &'static str,
    pub kind: &'static str,
    pub connection: String,
    pub name: String,
    pub reason: Option<String>,
    pub differences: Vec<DifferenceJson>,
    /// A queue to replace or delete: what it touches.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageJson>,
}

/// An entity on the broker that the files do not declare: not a change (nothing is done to
/// it), so it has no action. A queue carries what it holds, where the mode sees it.
#[derive(Serialize)]
pub struct UnmanagedJson {
    pub kind: &'static str,
    pub connection: String,
    pub name: String,
    /// Why it is listed here when `--prune` was asked (e.g. it holds messages).
    pub reason: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageJson>,
}

pub fn unmanaged(list: &[crate::plan::Unmanaged]) -> Vec<UnmanagedJson> {
    list.iter()
        .map(|c| UnmanagedJson {
            kind: c.kind().as_str(),
            connection: c.connection.to_string(),
            name: c.name(),
            reason: c.reason.clone(),
            usage: match &c.entity {
                Entity::Queue(q) => Some(UsageJson {
                    messages: q.usage.messages,
                    unacked: q.usage.unacked,
                    consumers: q.usage.consumers,
                }),
                _ => None,
            },
        })
        .collect()
}

/// Ready and unacknowledged messages and consumers of a queue a change replaces or
/// deletes; `null` where the mode that read the broker cannot see them.
#[derive(Serialize)]
pub struct UsageJson {
    pub messages: Option<u64>,
    pub unacked: Option<u64>,
    pub consumers: Option<u64>,
}

#[derive(Serialize)]
pub struct LintJson<'a> {
    pub diagnostics: DiagnosticsJson<'a>,
}

#[derive(Serialize)]
pub struct PlanJson<'a> {
    pub topology: TopologyJson<'a>,
    pub diagnostics: DiagnosticsJson<'a>,
    pub changes: Vec<ChangeJson>,
    pub unmanaged: Vec<UnmanagedJson>,
}

/// The diagnostics as a JSON array, each made as it is written: a million diagnostics are
/// never held a second time as wire types.
pub struct DiagnosticsJson<'a> {
    list: &'a [Diagnostic],
    sources: &'a Sources,
}

impl Serialize for DiagnosticsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.list.iter().map(|d| {
            let loc = d.primary().map(|s| self.sources.location(s));
            DiagnosticJson {
                severity: d.severity.as_str(),
                code: d.code.as_str(),
                message: &d.message,
                file: loc.map(|l| l.0),
                line: loc.map(|l| l.1),
                column: loc.map(|l| l.2),
                help: d.help.as_deref(),
            }
        }))
    }
}

pub fn diagnostics<'a>(list: &'a [Diagnostic], sources: &'a Sources) -> DiagnosticsJson<'a> {
    DiagnosticsJson { list, sources }
}

pub fn topology(t: &Topology) -> TopologyJson<'_> {
    TopologyJson {
        exchanges: t
            .sorted_exchanges()
            .into_iter()
            .map(|e| ExchangeJson {
                connection: &e.connection.value,
                name: &e.name.value,
                properties: ExchangeProperties {
                    kind: &e.kind.value,
                    durable: e.durable.value,
                    auto_delete: e.auto_delete.value,
                    internal: e.internal.value,
                    arguments: ArgumentsJson(&e.arguments),
                },
            })
            .collect(),
        queues: t
            .sorted_queues()
            .into_iter()
            .map(|q| QueueJson {
                connection: &q.connection.value,
                name: &q.name.value,
                properties: QueueProperties {
                    durable: q.durable.value,
                    auto_delete: q.auto_delete.value,
                    arguments: ArgumentsJson(&q.arguments),
                },
                origin: q.origin.as_str(),
            })
            .collect(),
        bindings: t
            .sorted_bindings()
            .into_iter()
            .map(|b| BindingJson {
                connection: &b.connection,
                source: &b.source,
                properties: BindingProperties {
                    destination: &b.destination.value,
                    destination_type: b.destination_type.value.as_str(),
                    routing_key: &b.routing_key.value,
                    arguments: ArgumentsJson(&b.arguments),
                },
            })
            .collect(),
    }
}

fn value_json(v: &Option<Value>) -> serde_json::Value {
    v.as_ref()
        .map(Value::to_json)
        .unwrap_or(serde_json::Value::Null)
}

pub fn changes(list: &[Change]) -> Vec<ChangeJson> {
    list.iter()
        .map(|c| ChangeJson {
            action: c.action.as_str(),
            kind: c.kind().as_str(),
            connection: c.connection.to_string(),
            name: c.name(),
            reason: c.reason.clone(),
            differences: c
                .differences
                .iter()
                .map(|d| DifferenceJson {
                    property: d.property.clone(),
                    broker: value_json(&d.broker),
                    ours: value_json(&d.ours),
                })
                .collect(),
            usage: match (&c.entity, c.action) {
                (Entity::Queue(q), Action::Replace | Action::Delete) => Some(UsageJson {
                    messages: q.usage.messages,
                    unacked: q.usage.unacked,
                    consumers: q.usage.consumers,
                }),
                _ => None,
            },
        })
        .collect()
}

fn to_string<T: Serialize>(value: &T) -> String {
    let mut text = Vec::new();
    // Writing to a Vec cannot fail, nor can the wire types fail to serialize.
    let _ = write(&mut text, value);
    String::from_utf8(text).expect("serde_json writes UTF-8")
}

/// `value` as one pretty-printed document and a newline. Buffered here, where the writer's
/// type is known: serde writes a document in tokens of a few bytes.
fn write<T: Serialize>(w: &mut dyn std::io::Write, value: &T) -> std::io::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
    serde_json::to_writer_pretty(&mut w, value)?;
    w.write_all(b"\n")?;
    w.flush()
}

pub fn lint(list: &[Diagnostic], sources: &Sources) -> String {
    to_string(&LintJson {
        diagnostics: diagnostics(list, sources),
    })
}

/// [`lint`], written as it is made.
pub fn write_lint(
    w: &mut dyn std::io::Write,
    list: &[Diagnostic],
    sources: &Sources,
) -> std::io::Result<()> {
    write(
        w,
        &LintJson {
            diagnostics: diagnostics(list, sources),
        },
    )
}

pub fn plan(t: &Topology, list: &[Diagnostic], sources: &Sources, plan: &Plan) -> String {
    to_string(&plan_document(t, list, sources, plan))
}

/// [`plan`], written as it is made.
pub fn write_plan(
    w: &mut dyn std::io::Write,
    t: &Topology,
    list: &[Diagnostic],
    sources: &Sources,
    plan: &Plan,
) -> std::io::Result<()> {
    write(w, &plan_document(t, list, sources, plan))
}

/// The document of a run that failed before it had one to print (a usage error, a broker
/// out of reach): empty, with the error, so that `--format json` always prints one JSON
/// document. `lint`: the lint document's shape; else the plan's.
pub fn failure(lint: bool, exit_code: i32, errors: &[String]) -> String {
    let error = error_json(exit_code, errors);
    let doc = if lint {
        serde_json::json!({"diagnostics": [], "error": error})
    } else {
        serde_json::json!({
            "topology": {"exchanges": [], "queues": [], "bindings": []},
            "diagnostics": [],
            "changes": [],
            "unmanaged": [],
            "error": error,
        })
    };
    to_string(&doc)
}

/// The plan document of a run stopped before it planned: what was read (the topology and
/// its diagnostics), no change, and the error that stopped it.
pub fn plan_failure(
    t: &Topology,
    list: &[Diagnostic],
    sources: &Sources,
    exit_code: i32,
    errors: &[String],
) -> String {
    let document = plan_document(t, list, sources, &Plan::default());
    let mut doc = serde_json::to_value(document).expect("wire types always serialize");
    doc["error"] = error_json(exit_code, errors);
    to_string(&doc)
}

fn error_json(exit_code: i32, errors: &[String]) -> serde_json::Value {
    let message = if errors.is_empty() {
        "the command failed (see standard error)".to_string()
    } else {
        errors.join("\n")
    };
    serde_json::json!({"exit_code": exit_code, "message": message})
}

/// The plan document; `apply` adds its `applied` steps to it.
pub fn plan_document<'a>(
    t: &'a Topology,
    list: &'a [Diagnostic],
    sources: &'a Sources,
    plan: &Plan,
) -> PlanJson<'a> {
    PlanJson {
        topology: topology(t),
        diagnostics: diagnostics(list, sources),
        changes: changes(&plan.changes),
        unmanaged: unmanaged(&plan.unmanaged),
    }
}

/// `apply --format json`: the plan document plus the steps taken.
pub fn applied<S: Serialize>(document: PlanJson, steps: &S) -> String {
    let mut doc = serde_json::to_value(document).expect("wire types always serialize");
    doc["applied"] = serde_json::to_value(steps).expect("wire types always serialize");
    to_string(&doc)
}
