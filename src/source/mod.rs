//! Read stage: turns the PATH arguments into [`Source`]s held in one [`Sources`] table.
//!
//! Takes: the paths a user gave (files, or directories searched recursively for
//! `queue_topology.xml`). Gives: every file's text, in the contract's merge order (command
//! line order; inside a directory, sorted by path), plus the `communication.xml` found beside
//! each topology file. Every [`Span`] in later stages is a byte range into one
//! `Source::text`, and [`Sources::location`] turns it into a 1-based line and column.
//!
//! Symbolic links met while walking a directory are not followed, so a walk never reads
//! outside the tree it was given.

use std::path::{Path, PathBuf};

pub mod magento;
pub mod php;

/// The file Magento reads in each module's `etc/`.
pub const TOPOLOGY_FILE: &str = "queue_topology.xml";

/// A file this tool reads beside [`TOPOLOGY_FILE`] and Magento never does: the place for
/// first-class `<queue>` elements, which Magento's schema validation (developer mode) would
/// reject in `queue_topology.xml`. Read right after the `queue_topology.xml` of its
/// directory (or module), in the same format.
pub const QUEUES_FILE: &str = "queue_topology.queues.xml";

/// Files larger than this are refused with a diagnostic instead of being read.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file. Invariant: `start <= end <= text.len()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// A value together with the place in a file that gave it.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// What kind of file a source is: it decides which parser reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Topology,
    Communication,
}

/// One file's text. `text` is the file decoded as UTF-8; bytes that are not UTF-8 were
/// replaced (and `invalid_utf8_at` says where the first one was).
#[derive(Debug)]
pub struct Source {
    /// The path as the user gave it (or as found under a directory they gave).
    pub name: String,
    pub text: String,
    pub kind: SourceKind,
    pub invalid_utf8_at: Option<usize>,
    /// The file could not be read: the OS error, and `text` is empty.
    pub read_error: Option<String>,
    line_starts: Vec<u32>,
}

impl Source {
    pub fn new(name: String, text: String, kind: SourceKind) -> Source {
        let line_starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| (i + 1) as u32),
            )
            .collect();
        Source {
            name,
            text,
            kind,
            invalid_utf8_at: None,
            read_error: None,
            line_starts,
        }
    }

    /// 0-based line holding a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self
            .line_starts
            .binary_search(&(offset.min(self.text.len()) as u32))
        {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// Byte offset where a 0-based line starts (the end of the text past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts
            .get(line)
            .map(|s| *s as usize)
            .unwrap_or(self.text.len())
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn location(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let column = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line + 1, column + 1)
    }
}

/// Every file read in one run. Spans resolve through it.
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<Source>,
}

impl Sources {
    pub fn add(&mut self, source: Source) -> FileId {
        self.files.push(source);
        FileId((self.files.len() - 1) as u32)
    }

    pub fn get(&self, id: FileId) -> &Source {
        self.files
            .get(id.0 as usize)
            .expect("a FileId is only made by Sources::add")
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &Source)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, s)| (FileId(i as u32), s))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// File name, line and column (1-based) of the start of a span.
    pub fn location(&self, span: Span) -> (&str, usize, usize) {
        let source = self.get(span.file);
        let (line, column) = source.location(span.start as usize);
        (&source.name, line, column)
    }
}

/// A PATH argument that names nothing readable: a usage error (exit 64).
#[derive(Debug, thiserror::Error)]
#[error("cannot read `{path}`: {reason}")]
pub struct PathError {
    pub path: String,
    pub reason: String,
}

/// The files to read, in merge order, and what a Magento install said about them.
#[derive(Debug, Default)]
pub struct Discovered {
    pub topology: Vec<PathBuf>,
    pub communication: Vec<PathBuf>,
    /// One per PATH that is a Magento install.
    pub installs: Vec<InstallReport>,
}

/// How a Magento install was read: its modules in Magento's order, what was left out.
#[derive(Debug)]
pub struct InstallReport {
    pub root: PathBuf,
    /// Enabled modules, in Magento's order, with the topology files each has (paths relative
    /// to the module: `etc/queue_topology.xml`, `etc/queue_topology.queues.xml`).
    pub modules: Vec<(String, Vec<String>)>,
    pub skipped: Vec<magento::Skipped>,
    /// What could not be read without PHP, and other doubts.
    pub warnings: Vec<String>,
    /// False when Magento_Amqp is not enabled: Magento provisions nothing.
    pub provisions: bool,
    /// The brokers of `app/etc/env.php` (`queue`), when it has one.
    pub brokers: Option<magento::Brokers>,
}

/// Expands the PATH arguments into the ordered list of files to read.
///
/// A directory that holds `app/etc/config.php` is a Magento install, read as
/// `setup:upgrade` reads it ([`magento`]): the `etc/queue_topology.xml` and
/// `etc/communication.xml` of its enabled modules, in Magento's module order, and nothing
/// when Magento_Amqp is disabled. Any other directory is searched recursively for
/// `queue_topology.xml`, in path order, with the `communication.xml` beside each.
///
/// `magento_root` (`--magento-root`) is read first, as an install; it is an error when it
/// holds no `app/etc/config.php`.
pub fn discover(paths: &[PathBuf], magento_root: Option<&Path>) -> Result<Discovered, PathError> {
    let mut out = Discovered::default();
    if let Some(root) = magento_root {
        if !root.is_dir() {
            return Err(PathError {
                path: root.display().to_string(),
                reason: "no such directory (given with --magento-root)".to_string(),
            });
        }
        if !magento::is_install(root) {
            return Err(PathError {
                path: root.display().to_string(),
                reason: "--magento-root names it, but it is not a Magento install: it has no app/etc/config.php".to_string(),
            });
        }
        read_install(root, &mut out)?;
    }
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| PathError {
            path: path.display().to_string(),
            reason: io_reason(&e),
        })?;
        if meta.is_dir() && magento::is_install(path) {
            read_install(path, &mut out)?;
        } else if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found).map_err(|e| PathError {
                path: path.display().to_string(),
                reason: io_reason(&e),
            })?;
            for file in found {
                out.add_plain(file);
            }
        } else {
            out.add_plain(path.clone());
        }
    }
    Ok(out)
}

impl Discovered {
    /// A topology file outside an install, with the `communication.xml` beside it.
    fn add_plain(&mut self, file: PathBuf) {
        if let Some(dir) = file.parent() {
            let candidate = dir.join("communication.xml");
            if candidate.is_file() && !self.communication.contains(&candidate) {
                self.communication.push(candidate);
            }
        }
        self.topology.push(file);
    }
}

fn read_install(root: &Path, out: &mut Discovered) -> Result<(), PathError> {
    let install = magento::read_install(root).map_err(|e| PathError {
        path: root.display().to_string(),
        reason: format!("cannot be read as a Magento install: {e}"),
    })?;
    let provisions = install.provisions();
    let mut modules = Vec::new();
    for m in install.enabled() {
        let files: Vec<&PathBuf> = m.topology.iter().chain(&m.queues).collect();
        modules.push((
            m.name.clone(),
            files
                .iter()
                .filter_map(|f| f.strip_prefix(&m.dir).ok())
                .map(|f| f.display().to_string())
                .collect(),
        ));
        if !provisions {
            continue;
        }
        out.topology.extend(files.into_iter().cloned());
        // Magento reads every enabled module's communication.xml, also without a topology.
        if let Some(c) = &m.communication
            && !out.communication.contains(c)
        {
            out.communication.push(c.clone());
        }
    }
    let brokers = install.env.as_ref().map(magento::brokers);
    out.installs.push(InstallReport {
        brokers,
        root: root.to_path_buf(),
        modules,
        skipped: install.skipped,
        warnings: install.warnings,
        provisions,
    });
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    // Sorted by name, except that queue_topology.queues.xml comes right after the
    // queue_topology.xml of its directory (the tool's file adds to Magento's, as in an
    // install), not before it.
    entries.sort_by_cached_key(|p| {
        let mut key = p.clone().into_os_string();
        if p.file_name().is_some_and(|n| n == QUEUES_FILE) {
            key = p.with_file_name(TOPOLOGY_FILE).into_os_string();
            key.push("\u{1}");
        }
        key
    });
    for path in entries {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            continue;
        }
        if meta.is_dir() {
            walk(&path, out)?;
        } else if path
            .file_name()
            .is_some_and(|n| n == TOPOLOGY_FILE || n == QUEUES_FILE)
        {
            out.push(path);
        }
    }
    Ok(())
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Reads one file into a [`Source`]. An oversized file becomes a source with `read_error`
/// set, reported like any other problem; a file the OS refuses is a usage error.
pub fn read(path: &Path, kind: SourceKind) -> Result<Source, PathError> {
    let shown = path.display().to_string();
    let name = shown.strip_prefix("./").unwrap_or(&shown).to_string();
    let fail = |e: std::io::Error| PathError {
        path: name.clone(),
        reason: io_reason(&e),
    };
    let meta = std::fs::metadata(path).map_err(fail)?;
    if meta.len() > MAX_FILE_BYTES {
        let mut s = Source::new(name, String::new(), kind);
        s.read_error = Some(format!(
            "the file is {} bytes, more than the {} bytes this tool reads",
            meta.len(),
            MAX_FILE_BYTES
        ));
        return Ok(s);
    }
    let bytes = std::fs::read(path).map_err(fail)?;
    Ok(from_bytes(name, bytes, kind))
}

/// Decodes bytes as UTF-8, remembering where the first invalid byte was.
pub fn from_bytes(name: String, bytes: Vec<u8>, kind: SourceKind) -> Source {
    match String::from_utf8(bytes) {
        Ok(text) => Source::new(name, text, kind),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let mut s = Source::new(name, text, kind);
            s.invalid_utf8_at = Some(at);
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_is_one_based_and_counts_characters() {
        let s = Source::new("f".into(), "ab\n\u{e9}x\n".into(), SourceKind::Topology);
        assert_eq!(s.location(0), (1, 1));
        assert_eq!(s.location(3), (2, 1));
        // 'x' follows a two-byte character: byte 5, column 2
        assert_eq!(s.location(5), (2, 2));
    }

    #[test]
    fn invalid_utf8_is_located() {
        let s = from_bytes("f".into(), b"<a>\xff</a>".to_vec(), SourceKind::Topology);
        assert_eq!(s.invalid_utf8_at, Some(3));
    }
}
