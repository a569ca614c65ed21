//! `topology apply`: plan against the live brokers, then run the plan over AMQP.
//!
//! Order per connection: bindings to prune; exchanges (create, then replace); queues (create,
//! then replace); bindings (create, and those restored after a replace); then pruned queues
//! (if empty) and exchanges. Only what the plan says is missing or different is sent.
//! A replace is refused unless `--allow-recreate`; a replaced queue is deleted with AMQP's
//! `if-empty`, so a queue holding a message is never deleted: the broker refuses, apply
//! reports it and stops (exit 1). Running `apply` again after any failure converges.

use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal;
use std::sync::Arc;

use crate::app::{self, Brokers, err, exit, out};
use crate::broker::amqp::{self, Op, Outcome};
use crate::cli::{ApplyArgs, Cli, Format};
use crate::diagnostic::Tally;
use crate::model::DestinationType;
use crate::plan::{Action, Change, Entity, Plan};
use crate::saved::SavedPlan;
use crate::spec::{BindingSpec, ConnectionSpecs};

/// How operations run.
#[derive(Clone, Copy, Debug)]
struct RunOptions {
    /// Parallel AMQP channels per connection.
    channels: usize,
    /// A progress bar on a terminal.
    progress: bool,
    /// Timings of each phase on stderr.
    verbose: bool,
}

/// One step apply took (or did not), for the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Step {
    pub action: &'static str,
    pub kind: &'static str,
    pub connection: String,
    pub name: String,
    pub status: &'static str,
    pub message: Option<String>,
}

pub fn run(cli: &Cli, args: &ApplyArgs) -> i32 {
    let loaded = match app::load_or_exit(cli, &args.paths) {
        Ok(l) => l,
        Err(code) => return code,
    };
    app::print_diagnostics(cli, &loaded);
    if Tally::of(&loaded.diagnostics).errors > 0 {
        err("error: the topology has errors: nothing was applied\n");
        return exit::ERRORS;
    }
    let desired = app::desired(&loaded);
    let rt = app::runtime();
    let brokers = match app::read_brokers(&rt, &args.broker, &desired, false) {
        Ok(b) => b,
        Err(code) => return code,
    };
    if brokers.snapshot.is_none() {
        err(
            "error: apply needs a broker: give --connection NAME=URL (or TOPOLOGY_CONNECTION_<NAME>)\n",
        );
        return exit::USAGE;
    }
    let plan = app::make_plan(&desired, &brokers, args.broker.prune);
    if let Some(path) = &args.plan
        && let Err(why) = check_saved(path, &plan, &brokers)
    {
        err(&format!(
            "error: refusing the saved plan `{}`: {why}\n",
            path.display()
        ));
        return exit::ERRORS;
    }
    let replaced: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Replace)
        .collect();
    if !replaced.is_empty() && !args.allow_recreate {
        let mut msg = String::from(
            "error: refusing to apply: these entities differ in properties that cannot change on a live broker, and would have to be deleted and declared again:\n",
        );
        for c in &replaced {
            msg.push_str(&format!(
                "  -/+ {} {} on `{}`: {}\n",
                c.kind().as_str(),
                c.name(),
                c.connection,
                c.reason.clone().unwrap_or_default()
            ));
        }
        msg.push_str("Nothing was applied. Run again with --allow-recreate to replace them (a queue is only deleted when empty).\n");
        err(&msg);
        if args.format == Format::Json {
            out(&render(&loaded, &plan, &[]));
        }
        return exit::ERRORS;
    }
    let opts = RunOptions {
        channels: args.channels.max(1),
        progress: std::io::stderr().is_terminal() && !cli.quiet,
        verbose: cli.verbose,
    };
    let mut steps = Vec::new();
    let mut failed = false;
    let nothing = ConnectionSpecs::default();
    for ep in &brokers.endpoints {
        let have = match brokers
            .snapshot
            .as_ref()
            .and_then(|s| s.states.get(&ep.name))
        {
            Some(crate::plan::ConnectionState::Live(h)) => h,
            _ => &nothing,
        };
        let changes: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| c.connection == ep.name)
            .collect();
        if changes
            .iter()
            .all(|c| matches!(c.action, Action::Unchanged | Action::Skip))
        {
            continue;
        }
        let timeout = std::time::Duration::from_secs(args.broker.timeout.max(1));
        let result = rt.block_on(async {
            let conn = amqp::connect(ep, &brokers.tls, timeout).await?;
            let ok = apply_connection(&conn, &ep.name, &changes, have, opts, &mut steps).await;
            let _ = conn.close(200, "done".into()).await;
            Ok::<bool, String>(ok)
        });
        match result {
            Ok(true) => {}
            Ok(false) => {
                failed = true;
                break;
            }
            Err(e) => {
                err(&format!("error: {e}\n"));
                return exit::UNAVAILABLE;
            }
        }
    }
    match args.format {
        Format::Json => out(&render(&loaded, &plan, &steps)),
        Format::Human => {
            if !cli.quiet {
                out(&human(&steps));
            }
        }
    }
    for s in steps
        .iter()
        .filter(|s| s.status == "failed" || s.status == "refused")
    {
        err(&format!(
            "error: {} {} `{}` on `{}`: {}\n",
            s.action,
            s.kind,
            s.name,
            s.connection,
            s.message.clone().unwrap_or_default()
        ));
    }
    if failed {
        err("error: apply stopped; run it again to converge once the cause is fixed\n");
        exit::ERRORS
    } else {
        exit::OK
    }
}

fn check_saved(path: &std::path::Path, plan: &Plan, brokers: &Brokers) -> Result<(), String> {
    let saved = SavedPlan::read(path)?;
    let now = brokers.snapshot.as_ref().map(|s| s.fingerprint.clone());
    if saved.fingerprint != now {
        return Err(
            "the broker's state changed since the plan was made; run `topology plan` again".into(),
        );
    }
    let changes = serde_json::to_value(crate::render::json::changes(&plan.changes))
        .expect("wire types always serialize");
    if saved.changes != changes {
        return Err("the files changed since the plan was made; run `topology plan` again".into());
    }
    Ok(())
}

fn step(c: &Change, status: &'static str, message: Option<String>) -> Step {
    Step {
        action: c.action.as_str(),
        kind: c.kind().as_str(),
        connection: c.connection.clone(),
        name: c.name(),
        status,
        message,
    }
}

/// Runs `ops` (one per change in `owners`) pipelined; records a step per change. Returns
/// false when one failed.
async fn run_phase(
    conn: &lapin::Connection,
    owners: &[&Change],
    ops: &[Op],
    opts: RunOptions,
    steps: &mut Vec<Step>,
) -> bool {
    let progress = opts.progress;
    let total = ops.len();
    let show: Arc<dyn Fn(usize) + Send + Sync> = if progress && total >= 200 {
        Arc::new(move |n| {
            if n % 100 == 0 || n == total {
                eprint!("\r  applying: {n}/{total}");
                if n == total {
                    eprintln!();
                }
            }
        })
    } else {
        Arc::new(|_| {})
    };
    let t = std::time::Instant::now();
    let outcomes: Vec<Outcome> = amqp::run_pipelined(conn, ops, opts.channels, show).await;
    if opts.verbose && !ops.is_empty() {
        eprintln!(
            "  {} operation(s) over {} channel(s) in {:.2}s",
            ops.len(),
            opts.channels.min(ops.len()),
            t.elapsed().as_secs_f64()
        );
    }
    let mut ok = true;
    for (c, outcome) in owners.iter().zip(outcomes) {
        match outcome {
            Some(Ok(())) => steps.push(step(c, "done", None)),
            Some(Err(answer)) => {
                ok = false;
                steps.push(step(c, "failed", Some(answer)));
            }
            None => steps.push(step(c, "not-run", None)),
        }
    }
    ok
}

/// Bindings on the broker that involve an exchange or queue (restored after it is replaced).
fn bindings_of<'a>(have: &'a ConnectionSpecs, kind: &str, name: &str) -> Vec<&'a BindingSpec> {
    have.bindings
        .iter()
        .filter(|b| {
            let k = &b.key;
            if k.source.is_empty() {
                return false;
            }
            match kind {
                "exchange" => {
                    k.source == name
                        || (k.destination_type == DestinationType::Exchange
                            && k.destination == name)
                }
                _ => k.destination_type == DestinationType::Queue && k.destination == name,
            }
        })
        .collect()
}

/// Quorum and stream queues do not support `queue.delete` with `if-empty` (the broker
/// answers 540 NOT_IMPLEMENTED and closes the connection).
fn is_replicated(have: &ConnectionSpecs, queue: &str) -> bool {
    have.queues.iter().any(|q| {
        q.name == queue
            && matches!(
                q.arguments.get("x-queue-type"),
                Some(crate::model::Value::Str(t)) if t == "quorum" || t == "stream"
            )
    })
}

/// Deletes a queue only if it holds no message. Classic queues: `if-empty`, atomic in the
/// broker. Quorum and stream queues: cut from their bindings first (so that routing adds
/// nothing), then a passive declare must count zero, then delete; when it does not, the
/// bindings are put back and nothing is deleted. Only a publish straight to the queue by
/// name through the default exchange, between the count and the delete, could still race.
async fn delete_queue_if_empty(
    ch: &lapin::Channel,
    conn: &lapin::Connection,
    name: &str,
    have: &ConnectionSpecs,
) -> Result<(), String> {
    let not_empty = |answer: String| {
        format!(
            "not deleted: it holds messages ({answer}); nothing of it was lost. Drain it, then apply again"
        )
    };
    if !is_replicated(have, name) {
        return amqp::run_op(ch, &Op::DeleteQueueIfEmpty(name.to_string()))
            .await
            .map_err(|e| {
                let answer = amqp::describe(&e);
                if answer.contains("PRECONDITION_FAILED") {
                    not_empty(format!("the broker answered {answer}"))
                } else {
                    answer
                }
            });
    }
    let bindings = bindings_of(have, "queue", name);
    for b in &bindings {
        amqp::run_op(ch, &Op::Unbind((*b).clone()))
            .await
            .map_err(|e| amqp::describe(&e))?;
    }
    let count = amqp::message_count(conn, name).await?;
    if let Some(n) = count.filter(|n| *n > 0) {
        for b in &bindings {
            amqp::run_op(ch, &Op::Bind((*b).clone()))
                .await
                .map_err(|e| amqp::describe(&e))?;
        }
        return Err(not_empty(format!("{n} message(s)")));
    }
    amqp::run_op(ch, &Op::DeleteEmptiedQueue(name.to_string()))
        .await
        .map_err(|e| amqp::describe(&e))
}

async fn replace(
    conn: &lapin::Connection,
    c: &Change,
    have: &ConnectionSpecs,
    restore: &mut Vec<BindingSpec>,
    steps: &mut Vec<Step>,
) -> bool {
    let (declare, kind, name) = match &c.entity {
        Entity::Exchange(e) => (Op::DeclareExchange(e.clone()), "exchange", e.name.clone()),
        Entity::Queue(q) => (Op::DeclareQueue(q.clone()), "queue", q.name.clone()),
        Entity::Binding(_) => return true,
    };
    let ch = match conn.create_channel().await {
        Ok(ch) => ch,
        Err(e) => {
            steps.push(step(c, "failed", Some(amqp::describe(&e))));
            return false;
        }
    };
    let deleted = if kind == "queue" {
        delete_queue_if_empty(&ch, conn, &name, have).await
    } else {
        amqp::run_op(&ch, &Op::DeleteExchange(name.clone()))
            .await
            .map_err(|e| amqp::describe(&e))
    };
    if let Err(message) = deleted {
        steps.push(step(c, "refused", Some(message)));
        let _ = ch.close(200, "done".into()).await;
        return false;
    }
    restore.extend(bindings_of(have, kind, &name).into_iter().cloned());
    let result = amqp::run_op(&ch, &declare).await;
    let _ = ch.close(200, "done".into()).await;
    match result {
        Ok(()) => {
            steps.push(step(c, "done", None));
            true
        }
        Err(e) => {
            steps.push(step(c, "failed", Some(amqp::describe(&e))));
            false
        }
    }
}

async fn apply_connection(
    conn: &lapin::Connection,
    connection: &str,
    changes: &[&Change],
    have: &ConnectionSpecs,
    opts: RunOptions,
    steps: &mut Vec<Step>,
) -> bool {
    let select = |kind: crate::plan::EntityKind, action: Action| -> Vec<&Change> {
        changes
            .iter()
            .copied()
            .filter(|c| c.kind() == kind && c.action == action)
            .collect()
    };
    use crate::plan::EntityKind::{Binding as B, Exchange as E, Queue as Q};

    // 1. bindings to prune
    let unbind = select(B, Action::Delete);
    let ops: Vec<Op> = unbind
        .iter()
        .filter_map(|c| match &c.entity {
            Entity::Binding(b) => Some(Op::Unbind(b.clone())),
            _ => None,
        })
        .collect();
    if !run_phase(conn, &unbind, &ops, opts, steps).await {
        return false;
    }
    // 2. exchanges, 3. queues: creates pipelined, then replaces one by one
    let mut restore: Vec<BindingSpec> = Vec::new();
    for kind in [E, Q] {
        let creates = select(kind, Action::Create);
        let ops: Vec<Op> = creates
            .iter()
            .filter_map(|c| match &c.entity {
                Entity::Exchange(e) => Some(Op::DeclareExchange(e.clone())),
                Entity::Queue(q) => Some(Op::DeclareQueue(q.clone())),
                Entity::Binding(_) => None,
            })
            .collect();
        if !run_phase(conn, &creates, &ops, opts, steps).await {
            return false;
        }
        for c in select(kind, Action::Replace) {
            if !replace(conn, c, have, &mut restore, steps).await {
                return false;
            }
        }
    }
    // 4. bindings: ours to create, and every binding a replace removed
    let creates = select(B, Action::Create);
    let mut seen: HashSet<String> = HashSet::new();
    let mut owners: Vec<&Change> = Vec::new();
    let mut ops: Vec<Op> = Vec::new();
    for c in &creates {
        if let Entity::Binding(b) = &c.entity {
            seen.insert(b.signature());
            owners.push(c);
            ops.push(Op::Bind(b.clone()));
        }
    }
    let restored: Vec<Change> = restore
        .into_iter()
        .filter(|b| seen.insert(b.signature()))
        .map(|b| Change {
            action: Action::Create,
            connection: connection.to_string(),
            reason: Some("restored after a replace".into()),
            differences: Vec::new(),
            entity: Entity::Binding(b),
        })
        .collect();
    for c in &restored {
        if let Entity::Binding(b) = &c.entity {
            owners.push(c);
            ops.push(Op::Bind(b.clone()));
        }
    }
    if !run_phase(conn, &owners, &ops, opts, steps).await {
        return false;
    }
    // 5. pruned queues, one by one and only when empty (quorum and stream queues need the
    //    unbind-count-delete path), then exchanges
    for c in select(Q, Action::Delete) {
        let Entity::Queue(q) = &c.entity else {
            continue;
        };
        let deleted = match conn.create_channel().await {
            Ok(ch) => {
                let r = delete_queue_if_empty(&ch, conn, &q.name, have).await;
                let _ = ch.close(200, "done".into()).await;
                r
            }
            Err(e) => Err(amqp::describe(&e)),
        };
        match deleted {
            Ok(()) => steps.push(step(c, "done", None)),
            Err(message) => {
                steps.push(step(c, "refused", Some(message)));
                return false;
            }
        }
    }
    let deletes = select(E, Action::Delete);
    let ops: Vec<Op> = deletes
        .iter()
        .filter_map(|c| match &c.entity {
            Entity::Exchange(e) => Some(Op::DeleteExchange(e.name.clone())),
            _ => None,
        })
        .collect();
    run_phase(conn, &deletes, &ops, opts, steps).await
}

fn human(steps: &[Step]) -> String {
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for s in steps.iter().filter(|s| s.status == "done") {
        *counts.entry((s.action, s.kind)).or_default() += 1;
    }
    if counts.is_empty() && steps.is_empty() {
        return "Nothing to do: the brokers match the files.\n".to_string();
    }
    let mut text = String::new();
    for s in steps
        .iter()
        .filter(|s| s.status == "done" && s.action != "create")
    {
        let sym = if s.action == "delete" { "-" } else { "-/+" };
        text.push_str(&format!(
            "{sym} {} {} on `{}`\n",
            s.kind, s.name, s.connection
        ));
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|((action, kind), n)| {
            let verb = match *action {
                "create" => "created",
                "replace" => "replaced",
                "delete" => "deleted",
                other => other,
            };
            format!("{verb} {n} {kind}{}", if *n == 1 { "" } else { "s" })
        })
        .collect();
    if !summary.is_empty() {
        text.push_str(&format!("Apply complete: {}.\n", summary.join(", ")));
    }
    text
}

fn render(loaded: &crate::load::Loaded, plan: &Plan, steps: &[Step]) -> String {
    let document = crate::render::json::plan_document(
        &loaded.topology,
        &loaded.diagnostics,
        &loaded.sources,
        plan,
    );
    crate::render::json::applied(document, &steps)
}
