//! The front half of the pipeline, from PATH arguments to a linted [`Topology`]:
//! read → syntax → schema → model (merge) → lint. Used by every command. Files that make
//! a large topology are read, parsed and decoded on every core (each thread reads the files
//! it parses, once the first ones read show the topology large enough); a small one starts
//! no thread. A large file's text is released once parsed and read again only for the files
//! a diagnostic points into (most of lint's memory at scale otherwise).

use std::path::PathBuf;

pub use crate::lint::Dialect;

use crate::communication::SyncTopics;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{MergeInput, Topology, merge};
use crate::schema::FileDecl;
use crate::source::{self, FileId, PathError, Source, SourceKind, Sources, Span};
use crate::{lint, memory, schema, syntax};

/// Everything known after reading and checking the files.
pub struct Loaded {
    pub sources: Sources,
    pub topology: Topology,
    /// Syntax, schema, merge and lint findings, in that order.
    pub diagnostics: Vec<Diagnostic>,
    /// The Magento installs among the PATHs: which modules were read, in which order.
    pub installs: Vec<source::InstallReport>,
    /// The connection of an element that names none: `--default-connection`, else a Magento
    /// install's (env.php), else `amqp`.
    pub default_connection: String,
}

/// How to read the files.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--default-connection`; None: the Magento install's (env.php `queue`), else `amqp`.
    pub default_connection: Option<String>,
    pub dialect: Dialect,
    /// `--magento-root`: a Magento install, read first (an error if it is not one).
    pub magento_root: Option<PathBuf>,
}

impl Options {
    /// The default dialect with `default_connection`.
    pub fn with_default_connection(name: &str) -> Options {
        Options {
            default_connection: Some(name.to_string()),
            ..Options::default()
        }
    }
}

/// The connection name used when neither the files nor env.php say one.
pub const DEFAULT_CONNECTION: &str = "amqp";

/// Reads, merges and lints the files under `paths`. Fails only when a path cannot be read
/// (a usage error); every problem inside a file is a diagnostic.
pub fn load(paths: &[PathBuf], options: &Options) -> Result<Loaded, PathError> {
    load_beside_lint(paths, options, |_| ()).map(|(loaded, ())| loaded)
}

/// Topologies from this many queues and bindings have `beside` run on a thread of its own.
const BESIDE_FROM: usize = 20_000;

/// [`load`], and `beside` run on the merged topology while lint runs: work the caller would
/// do next anyway (the plan's order), on a second core when the topology is large.
pub fn load_beside_lint<R: Send>(
    paths: &[PathBuf],
    options: &Options,
    beside: impl FnOnce(&Topology) -> R + Send,
) -> Result<(Loaded, R), PathError> {
    let found = source::discover(paths, options.magento_root.as_deref())?;
    // Magento's DefaultValueProvider: env.php's default connection.
    let default_connection = options
        .default_connection
        .clone()
        .or_else(|| {
            found
                .installs
                .iter()
                .find_map(|i| i.brokers.as_ref().map(|b| b.default_connection.clone()))
        })
        .unwrap_or_else(|| DEFAULT_CONNECTION.to_string());
    let (topology_files, communication_files) = (found.topology, found.communication);
    let mut sources = Sources::default();
    let mut diagnostics = Vec::new();
    for install in &found.installs {
        for warning in &install.warnings {
            diagnostics.push(Diagnostic::warning(
                Code::MagentoInstall,
                format!("Magento install `{}`: {warning}", install.root.display()),
            ));
        }
    }
    let mut decls = Vec::with_capacity(topology_files.len());
    let silent_install = found.installs.iter().any(|i| !i.provisions);
    if topology_files.is_empty() && silent_install {
        diagnostics.push(
            Diagnostic::warning(
                Code::NoFiles,
                "Magento_Amqp is not enabled in this Magento install: Magento declares nothing on any broker",
            )
            .with_help("enable Magento_Amqp (bin/magento module:enable Magento_Amqp) to use RabbitMQ"),
        );
    } else if topology_files.is_empty() {
        diagnostics.push(
            Diagnostic::warning(
                Code::NoFiles,
                format!(
                    "no queue_topology.xml under {}",
                    paths
                        .iter()
                        .chain(options.magento_root.iter())
                        .map(|p| format!("`{}`", p.display()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_help("give the files, or directories holding them (searched recursively)"),
        );
    }
    // Magento's RemoteService topology reader adds the `magento` exchange to what the
    // modules declare, on the default connection, in every install that provisions.
    let mut reads: Vec<ToParse> = Vec::with_capacity(topology_files.len() + 1);
    if found.installs.iter().any(|i| i.provisions) {
        reads.push(ToParse::Read(remote_service_exchange(&default_connection)));
    }
    // Read here until the files read are enough to parse on every core; the rest are read
    // by the threads that parse them.
    let mut bytes = 0;
    for file in &topology_files {
        if bytes >= PARSE_IN_PARALLEL_FROM {
            reads.push(ToParse::Unread(file));
        } else {
            let source = source::read(file, SourceKind::Topology);
            bytes += source.text.len();
            reads.push(ToParse::Read(source));
        }
    }
    let in_parallel = bytes >= PARSE_IN_PARALLEL_FROM;
    let parsed = parse_topologies(reads, sources.next_id(), in_parallel);
    for file in parsed {
        sources.add(file.source);
        gather(&mut diagnostics, file.diagnostics);
        decls.extend(file.decl);
    }
    let mut comm_ids = Vec::new();
    for path in &communication_files {
        comm_ids.push(sources.add(source::read(path, SourceKind::Communication)));
    }
    let mut comm_docs = Vec::new();
    for id in comm_ids {
        if let Some(d) = unreadable(id, sources.get(id)) {
            diagnostics.push(d);
            continue;
        }
        let (doc, d) = syntax::parse(id, sources.get(id));
        gather(&mut diagnostics, d);
        comm_docs.push(doc);
    }
    let sync_topics = SyncTopics::from_documents(&comm_docs);
    drop(comm_docs);
    let (topology, d) = merge(MergeInput {
        files: decls,
        default_connection: &default_connection,
        sync_topics: &sync_topics,
    });
    gather(&mut diagnostics, d);
    let finish = |mut diagnostics: Vec<Diagnostic>| {
        diagnostics.extend(lint::lint(&topology, options.dialect));
        // Every diagnostic says how to fix it: its own help, else its code's.
        let mut diagnostics: Vec<Diagnostic> = diagnostics
            .into_iter()
            .map(Diagnostic::or_default_help)
            .collect();
        // Stable: by file and position; diagnostics without a place first. (Mostly in that
        // order already: a sort would still take a buffer of half their size.)
        let place = |d: &Diagnostic| d.primary().map(|s| (s.file, s.start));
        if !diagnostics.is_sorted_by_key(place) {
            diagnostics.sort_by_key(place);
        }
        diagnostics
    };
    // The files with diagnostics are read again for their snippets while `beside` runs.
    let (diagnostics, beside) = if topology.queues.len() + topology.bindings.len() >= BESIDE_FROM {
        std::thread::scope(|scope| {
            let beside = scope.spawn(|| beside(&topology));
            let diagnostics = restore_texts(&mut sources, finish(diagnostics));
            let beside = beside
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (diagnostics, beside)
        })
    } else {
        let diagnostics = restore_texts(&mut sources, finish(diagnostics));
        (diagnostics, beside(&topology))
    };
    Ok((
        Loaded {
            sources,
            topology,
            diagnostics,
            installs: found.installs,
            default_connection,
        },
        beside,
    ))
}

/// Topology files of this many bytes in all are parsed on every core.
const PARSE_IN_PARALLEL_FROM: usize = 256 * 1024;

/// A topology file to parse: read already, or to be read by the thread that parses it.
// (One per file, moved once: a Source inline costs less than a box each.)
#[allow(clippy::large_enum_variant)]
enum ToParse<'f> {
    Read(Source),
    Unread(&'f source::Found),
}

/// `reads` read where they are not yet, parsed and decoded, in order, the first to be added
/// to the sources as `first`: on every core when `in_parallel` (each diagnostic and
/// declaration keeps its file's id and place either way).
fn parse_topologies(reads: Vec<ToParse>, first: FileId, in_parallel: bool) -> Vec<Parsed> {
    let parse = |(i, file): (usize, ToParse)| {
        let src = match file {
            ToParse::Read(src) => src,
            ToParse::Unread(file) => source::read(file, SourceKind::Topology),
        };
        parse_topology(FileId(first.0 + i as u32), src)
    };
    if in_parallel && reads.len() > 1 {
        use rayon::prelude::*;
        reads.into_par_iter().enumerate().map(parse).collect()
    } else {
        reads.into_iter().enumerate().map(parse).collect()
    }
}

/// One topology file parsed: the file, its declarations (None when it could not be read)
/// and what its syntax and schema say.
struct Parsed {
    source: Source,
    decl: Option<FileDecl>,
    diagnostics: Vec<Diagnostic>,
}

/// `src`, to be added to the sources as `id`, parsed and decoded. A large file's syntax
/// tree, freed, is handed back before its thread parses the next file; its text too (read
/// again if a diagnostic points into it).
fn parse_topology(id: FileId, mut src: Source) -> Parsed {
    if let Some(d) = unreadable(id, &src) {
        return Parsed {
            source: src,
            decl: None,
            diagnostics: vec![d],
        };
    }
    let (doc, mut diagnostics) = syntax::parse(id, &src);
    let (decl, d) = schema::decode(&doc);
    gather(&mut diagnostics, d);
    drop(doc);
    let len = src.text.len();
    if len >= RELEASE_TEXT_FROM {
        src.release_text();
    }
    memory::give_back_after(len);
    Parsed {
        source: src,
        decl: Some(decl),
        diagnostics,
    }
}

/// Files from this many bytes have their text released once parsed.
const RELEASE_TEXT_FROM: usize = 64 * 1024;

/// The texts of the files that `diagnostics` point into, read again (their snippets and
/// locations need them); a file that changed since it was parsed gets a warning first.
fn restore_texts(sources: &mut Sources, mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let files: std::collections::BTreeSet<source::FileId> = diagnostics
        .iter()
        .flat_map(|d| d.labels.iter().map(|l| l.span.file))
        .collect();
    let mut changed = Vec::new();
    for file in files {
        if let Err(why) = sources.get_mut(file).restore_text() {
            changed.push(
                Diagnostic::warning(
                    Code::Unreadable,
                    format!("{why}: its snippets below are blank"),
                )
                .with_help("run again on files that are not being written"),
            );
        }
    }
    if !changed.is_empty() {
        // Diagnostics without a place come first.
        changed.append(&mut diagnostics);
        diagnostics = changed;
    }
    diagnostics
}

/// `more` added to `diagnostics`; taken whole when there are none yet (a million diagnostics
/// of one file are not copied).
fn gather(diagnostics: &mut Vec<Diagnostic>, mut more: Vec<Diagnostic>) {
    if diagnostics.is_empty() {
        *diagnostics = more;
    } else {
        diagnostics.append(&mut more);
    }
}

/// The `unreadable` error of a file that could not be read, located at its start.
fn unreadable(id: source::FileId, src: &Source) -> Option<Diagnostic> {
    let reason = src.read_error.as_ref()?;
    Some(
        Diagnostic::error(
            Code::Unreadable,
            format!("cannot read `{}`: {reason}", src.name),
        )
        .with_label(Span::new(id, 0, 0), "not read"),
    )
}

/// The exchange Magento's RemoteService topology reader
/// (`Magento\Framework\MessageQueue\Topology\Config\RemoteService\Reader`) declares in every
/// install: `magento` (DefaultValueProvider::getExchange), topic, durable, on the default
/// connection. It is read first, as a file of its own, so that a module declaring `magento`
/// on the same connection adds its bindings to it. (The bindings that reader derives from
/// remote-service preferences in di.xml are not read.)
fn remote_service_exchange(default_connection: &str) -> Source {
    let connection = default_connection
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    Source::new(
        "(Magento's RemoteService topology reader)".to_string(),
        format!(
            "<config>\n    <exchange name=\"magento\" type=\"topic\" connection=\"{connection}\" durable=\"true\" autoDelete=\"false\" internal=\"false\"/>\n</config>\n"
        ),
        SourceKind::Topology,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large file's text is released once parsed, and read again for the diagnostic that
    /// points into it: its snippet and location are those of the file.
    #[test]
    fn a_large_file_with_a_problem_keeps_its_snippet() {
        let dir = tempfile::tempdir().unwrap();
        let etc = dir.path().join("M/etc");
        std::fs::create_dir_all(&etc).unwrap();
        let mut xml = String::from("<config>\n");
        while xml.len() < 2 * RELEASE_TEXT_FROM {
            xml += "  <exchange name=\"fine\" type=\"topic\"/>\n";
        }
        xml += "  <exchange name=\"odd\" type=\"topic\" durable=\"maybe\"/>\n</config>\n";
        std::fs::write(etc.join("queue_topology.xml"), &xml).unwrap();
        let big = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(big.path().join("N/etc")).unwrap();
        std::fs::write(
            big.path().join("N/etc/queue_topology.xml"),
            xml.replace("durable=\"maybe\"", ""),
        )
        .unwrap();
        let loaded = load(
            &[dir.path().to_path_buf(), big.path().to_path_buf()],
            &Options::default(),
        )
        .unwrap();
        let d = loaded
            .diagnostics
            .iter()
            .find(|d| d.message.contains("maybe"))
            .expect("a diagnostic for durable=\"maybe\"");
        let span = d.primary().unwrap();
        let (file, line, _) = loaded.sources.location(span);
        assert!(file.ends_with("M/etc/queue_topology.xml"), "{file}");
        assert_eq!(line, xml.lines().count() - 1);
        let text = crate::render::diagnostics::render(&loaded.diagnostics, &loaded.sources, false);
        assert!(text.contains("durable=\"maybe\""), "{text}");
        // The file without a problem keeps its text released.
        let clean = loaded
            .sources
            .iter()
            .find(|(_, s)| s.name.contains("/N/"))
            .unwrap()
            .1;
        assert_eq!(clean.text, "");
        assert_eq!(
            clean.full_text().unwrap().len(),
            xml.len() - "durable=\"maybe\"".len()
        );
    }

    /// Files parsed on every core give what they give one after the other: the same
    /// declarations and diagnostics (each pointing into its own file), in file order; also
    /// when the threads read the files they parse.
    #[test]
    fn files_parsed_in_parallel_keep_their_ids_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<source::Found> = (0..9)
            .map(|i| {
                let path = dir.path().join(format!("m{i}/etc/queue_topology.xml"));
                // (File 4 is not there.)
                if i != 4 {
                    let mut xml = String::from("<config>\n");
                    for x in 0..200 {
                        xml += &format!("  <exchange name=\"m{i}.x{x}\" type=\"topic\"/>\n");
                    }
                    // A schema error in the even files, a syntax error in the last.
                    if i % 2 == 0 {
                        xml += &format!(
                            "  <exchange name=\"bad{i}\" type=\"topic\" durable=\"maybe\"/>\n"
                        );
                    }
                    if i != 8 {
                        xml += "</config>\n";
                    }
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, xml).unwrap();
                }
                source::Found::unlisted(path)
            })
            .collect();
        let read = |f| ToParse::Read(source::read(f, SourceKind::Topology));
        let reads = || files.iter().map(read).collect::<Vec<_>>();
        let first = FileId(3);
        let one_by_one = parse_topologies(reads(), first, false);
        let parallel = parse_topologies(reads(), first, true);
        // Two read here, the rest by the threads.
        let (here, there) = files.split_at(2);
        let mixed = here
            .iter()
            .map(read)
            .chain(there.iter().map(ToParse::Unread))
            .collect();
        let mixed = parse_topologies(mixed, first, true);
        assert_eq!(one_by_one.len(), 9);
        let mut files_with_problems = Vec::new();
        for other in [&parallel, &mixed] {
            assert_eq!(other.len(), 9);
            for (i, (a, b)) in one_by_one.iter().zip(other).enumerate() {
                assert_eq!(a.source.name, b.source.name);
                assert_eq!(a.diagnostics, b.diagnostics, "file {i}");
                assert_eq!(format!("{:?}", a.decl), format!("{:?}", b.decl), "file {i}");
                for d in &b.diagnostics {
                    assert_eq!(d.primary().unwrap().file, FileId(3 + i as u32), "{d:?}");
                    files_with_problems.push(i);
                }
            }
            assert!(other[4].decl.is_none());
            assert_eq!(other[1].decl.as_ref().unwrap().exchanges.len(), 200);
        }
        files_with_problems.dedup();
        assert_eq!(files_with_problems, [0, 2, 4, 6, 8, 0, 2, 4, 6, 8]);
    }
}

/// Generated trees for tests.
#[cfg(test)]
pub(crate) mod test_tree {
    /// Two modules, `A` on connection `amqp` and `B` on `other`, each with `exchanges` topic
    /// exchanges of `bindings` bindings to `queues` queues, declared in reverse (plan order
    /// is not declaration order).
    pub fn two_connections(exchanges: usize, bindings: usize, queues: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (module, connection) in [("A", "amqp"), ("B", "other")] {
            let etc = dir.path().join(format!("{module}/etc"));
            std::fs::create_dir_all(&etc).unwrap();
            let mut xml = String::from("<config>");
            for x in (0..exchanges).rev() {
                xml += &format!(
                    "<exchange name=\"{module}.x{x}\" type=\"topic\" connection=\"{connection}\">"
                );
                for b in (0..bindings).rev() {
                    xml += &format!(
                        "<binding id=\"b{b}\" topic=\"t{b}\" destinationType=\"queue\" destination=\"q{}\"/>",
                        b % queues
                    );
                }
                xml += "</exchange>";
            }
            xml += "</config>";
            std::fs::write(etc.join("queue_topology.xml"), xml).unwrap();
        }
        dir
    }
}
