//! Read stage: turns the PATH arguments into [`Source`]s held in one [`Sources`] table.
//!
//! Takes: the paths a user gave (files, or directories searched recursively for
//! `queue_topology.xml`). Gives: every file's text, in the contract's merge order (command
//! line order; inside a directory, sorted by path), plus the `communication.xml` found beside
//! each topology file. Every [`Span`] in later stages is a byte range into one
//! `Source::text`, and [`Sources::location`] turns it into a 1-based line and column.
//!
//! Symbolic links met while walking a directory are followed (Composer path repositories
//! link module directories into `vendor/`), each directory at most once by its canonical
//! path, so a link loop ends the descent; the same file reached twice (two PATHs, a link)
//! is read once, where it was first met. Only regular files are read: a FIFO, a device or a
//! socket is refused before it is opened, and it is opened so that it cannot block; a read
//! stops after [`MAX_FILE_BYTES`], whatever the file's metadata says.

use listing::{Entry, Kind, Lister};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

mod encoding;
mod listing;
pub mod magento;
pub mod php;

/// The file Magento reads in each module's `etc/`.
pub const TOPOLOGY_FILE: &str = "queue_topology.xml";

/// A file this tool reads beside [`TOPOLOGY_FILE`] and Magento never does: the place for
/// first-class `<queue>` elements, which Magento's schema validation (developer mode) would
/// reject in `queue_topology.xml`. Read right after the `queue_topology.xml` of its
/// directory (or module), in the same format.
pub const QUEUES_FILE: &str = "queue_topology.queues.xml";

/// The file beside [`TOPOLOGY_FILE`] that says which topics are synchronous.
pub const COMMUNICATION_FILE: &str = "communication.xml";

/// Files larger than this are refused with a diagnostic instead of being read.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Bytes per block of [`Source`]'s character index: finding a column reads at most twice
/// this many bytes, however long the line.
const COLUMN_BLOCK: usize = 256;

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

/// A file whose bytes could not be decoded as the encoding it is in.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodingError {
    /// Byte range in `Source::text` of what is at fault (a replaced byte, or the declared
    /// encoding's name).
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub label: String,
}

/// One file's text. `text` is the file decoded to UTF-8 from the encoding it declares
/// (UTF-8, US-ASCII, ISO-8859-1 or UTF-16, as libxml2 reads them without iconv); bytes that
/// could not be decoded were replaced, and `encoding_error` says where the first one was.
#[derive(Debug)]
pub struct Source {
    /// The path as the user gave it (or as found under a directory they gave).
    pub name: String,
    pub text: String,
    pub kind: SourceKind,
    pub encoding_error: Option<EncodingError>,
    /// The file could not be read: the OS error, and `text` is empty.
    pub read_error: Option<String>,
    line_starts: Vec<u32>,
    /// `char_blocks[i]`: characters in `text[..i * COLUMN_BLOCK]`.
    char_blocks: Vec<u32>,
    /// The file it was read from ([`read`]); None for a text made in memory.
    path: Option<PathBuf>,
    /// Set while the text is released ([`Source::release_text`]).
    released: Option<Released>,
}

/// What a released text was (to know the file read again is the same).
#[derive(Debug)]
struct Released {
    len: usize,
    hash: u64,
}

fn text_hash(text: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(text.as_bytes());
    h.finish()
}

/// Characters that start in `bytes` (bytes that are not UTF-8 continuation bytes).
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xc0) != 0x80).count()
}

impl Source {
    pub fn new(name: String, text: String, kind: SourceKind) -> Source {
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| (i + 1) as u32))
            .collect();
        let mut char_blocks = Vec::with_capacity(text.len() / COLUMN_BLOCK + 1);
        let mut chars = 0u32;
        char_blocks.push(0);
        for block in text.as_bytes().chunks(COLUMN_BLOCK) {
            chars += char_starts(block) as u32;
            char_blocks.push(chars);
        }
        Source {
            name,
            text,
            kind,
            encoding_error: None,
            read_error: None,
            line_starts,
            char_blocks,
            path: None,
            released: None,
        }
    }

    /// Frees the text of a file once parsed: only a diagnostic's snippet and location need
    /// it again, and [`Source::restore_text`] reads it again for them (a large topology's
    /// files are most of lint's memory otherwise). A text made in memory, or a file that
    /// could not be read, is kept.
    pub fn release_text(&mut self) {
        if self.path.is_none() || self.released.is_some() || self.read_error.is_some() {
            return;
        }
        self.released = Some(Released {
            len: self.text.len(),
            hash: text_hash(&self.text),
        });
        self.text = String::new();
    }

    /// The text, also when released: read again, and refused (with why) when the file is
    /// not what was parsed any more.
    pub fn full_text(&self) -> Result<std::borrow::Cow<'_, str>, String> {
        let (Some(r), Some(path)) = (&self.released, &self.path) else {
            return Ok(std::borrow::Cow::Borrowed(&self.text));
        };
        let again = read(&Found::unlisted(path.clone()), self.kind);
        if let Some(why) = again.read_error {
            return Err(format!("cannot read `{}` again: {why}", self.name));
        }
        if again.text.len() != r.len || text_hash(&again.text) != r.hash {
            return Err(format!("`{}` changed while it was read", self.name));
        }
        Ok(std::borrow::Cow::Owned(again.text))
    }

    /// Puts a released text back ([`Source::full_text`]). When it cannot be, the text
    /// becomes blank lines of the same lengths (locations stay right, snippets show blank
    /// lines) and the reason is returned.
    pub fn restore_text(&mut self) -> Result<(), String> {
        let Some(released) = &self.released else {
            return Ok(());
        };
        let (text, result) = match self.full_text() {
            Ok(text) => (text.into_owned(), Ok(())),
            Err(why) => {
                let mut blank = vec![b' '; released.len];
                for &start in &self.line_starts[1..] {
                    blank[start as usize - 1] = b'\n';
                }
                (String::from_utf8(blank).expect("ASCII"), Err(why))
            }
        };
        self.text = text;
        self.released = None;
        result
    }

    /// A file that could not be read: `reason` says why, the text is empty.
    pub fn unreadable(name: String, kind: SourceKind, reason: String) -> Source {
        let mut s = Source::new(name, String::new(), kind);
        s.read_error = Some(reason);
        s
    }

    /// Characters in `text[..offset]`, reading at most one block.
    fn chars_before(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let block = offset / COLUMN_BLOCK;
        let counted = self.char_blocks.get(block).copied().unwrap_or(0) as usize;
        counted + char_starts(&self.text.as_bytes()[block * COLUMN_BLOCK..offset])
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

    /// 1-based line and column (in characters) of a byte offset. Costs a binary search
    /// and at most two blocks of [`COLUMN_BLOCK`] bytes, not a scan of the line.
    pub fn location(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let column = self.chars_before(offset) - self.chars_before(self.line_start(line));
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

    /// The id the next [`Sources::add`] gives.
    pub fn next_id(&self) -> FileId {
        FileId(self.files.len() as u32)
    }

    pub fn get(&self, id: FileId) -> &Source {
        self.files
            .get(id.0 as usize)
            .expect("a FileId is only made by Sources::add")
    }

    pub fn get_mut(&mut self, id: FileId) -> &mut Source {
        self.files
            .get_mut(id.0 as usize)
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

/// A file to read, as discovery found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// Its directory's listing gave it as a regular file (not a link): its canonical path
    /// is its directory's and its name, and it is opened without a `stat` first (the open
    /// handle is checked all the same). False when nothing listed it.
    pub listed_regular: bool,
}

impl Found {
    /// A file no listing vouched for (a PATH argument, a module file of an install).
    pub fn unlisted(path: PathBuf) -> Found {
        Found {
            path,
            listed_regular: false,
        }
    }

    /// The file `name` of a directory's listing, of the type the listing gave.
    fn listed(path: PathBuf, kind: Kind) -> Found {
        Found {
            path,
            listed_regular: kind == Kind::File,
        }
    }
}

/// The files to read, in merge order, and what a Magento install said about them.
#[derive(Debug, Default)]
pub struct Discovered {
    pub topology: Vec<Found>,
    pub communication: Vec<Found>,
    /// One per PATH that is a Magento install.
    pub installs: Vec<InstallReport>,
    /// Canonical paths of the files above.
    seen: HashSet<OsString>,
    canonical: Canonical,
}

/// Canonical paths (as [`Path::canonicalize`] gives them; a path that cannot be resolved is
/// its own), each directory's remembered: a path below a known directory costs one `lstat`
/// instead of a `readlink` for each of its components (a deep tree of modules made
/// resolving paths most of `lint`'s time on a Magento code base).
///
/// Paths are keyed by their bytes (hashed as one string, not component by component): the
/// keys are paths this module made or canonical ones, so equal paths are equal bytes (a
/// path spelt otherwise is only resolved once more).
#[derive(Debug, Default)]
struct Canonical {
    dirs: HashMap<OsString, PathBuf>,
}

impl Canonical {
    /// The canonical path of `path`; `not_a_link`: a listing said it is no link (no
    /// `lstat` needed).
    fn of(&mut self, path: &Path, not_a_link: bool) -> PathBuf {
        if let (Some(parent), Some(name)) = (path.parent(), path.file_name())
            && !parent.as_os_str().is_empty()
            && (not_a_link
                || std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_symlink()))
        {
            return self.dir(parent).join(name);
        }
        path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
    }

    /// The canonical path of the directory `dir`, remembered.
    fn dir(&mut self, dir: &Path) -> PathBuf {
        if let Some(known) = self.dirs.get(dir.as_os_str()) {
            return known.clone();
        }
        let canonical = self.of(dir, false);
        self.dirs
            .insert(dir.as_os_str().to_os_string(), canonical.clone());
        canonical
    }
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
            walk(
                path,
                &mut found,
                &mut HashSet::default(),
                &mut out.canonical,
                &mut Lister::default(),
            )?;
            for (file, communication) in found {
                out.add_plain(file, communication);
            }
        } else {
            // Not a directory: read says what it is when it is not a regular file.
            let candidate = path.with_file_name(COMMUNICATION_FILE);
            let communication = (path.parent().is_some() && candidate.is_file())
                .then(|| Found::unlisted(candidate));
            out.add_plain(Found::unlisted(path.clone()), communication);
        }
    }
    Ok(out)
}

impl Discovered {
    /// A topology file outside an install, with the `communication.xml` beside it (a
    /// file that is there).
    fn add_plain(&mut self, file: Found, communication: Option<Found>) {
        if !self.first_time(&file.path, file.listed_regular) {
            return;
        }
        if let Some(c) = communication
            && self.first_time(&c.path, c.listed_regular)
        {
            self.communication.push(c);
        }
        self.topology.push(file);
    }

    /// Whether `file` is met for the first time in this run, by its canonical path (a file
    /// reached twice, through two PATHs or a link, is read once, where it was first met);
    /// `not_a_link`: a listing said it is no link.
    fn first_time(&mut self, file: &Path, not_a_link: bool) -> bool {
        let key = self.canonical.of(file, not_a_link);
        self.seen.insert(key.into_os_string())
    }
}

fn read_install(root: &Path, out: &mut Discovered) -> Result<(), PathError> {
    // An install named twice (two PATHs, or --magento-root and a PATH) is read once.
    if !out.first_time(root, false) {
        return Ok(());
    }
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
        for file in files {
            if out.first_time(file, false) {
                out.topology.push(Found::unlisted(file.clone()));
            }
        }
        // Magento reads every enabled module's communication.xml, also without a topology.
        if let Some(c) = &m.communication
            && out.first_time(c, false)
        {
            out.communication.push(Found::unlisted(c.clone()));
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

/// Collects the topology files under `dir`, in merge order, each with the
/// `communication.xml` its directory lists (a link to one included; `read` says what it is
/// when it is no file). Links to directories are followed; `visited` holds the canonical
/// path of every directory walked, so each is walked once and a link loop ends there. A
/// directory that cannot be listed is an error naming it.
fn walk(
    dir: &Path,
    out: &mut Vec<(Found, Option<Found>)>,
    visited: &mut HashSet<OsString>,
    canonical: &mut Canonical,
    lister: &mut Lister,
) -> Result<(), PathError> {
    let here = canonical.dir(dir);
    if !visited.insert(here.as_os_str().to_os_string()) {
        return Ok(());
    }
    // Directories and links (one may lead to a directory), and the files the walk reads
    // by name: of any type, as `read` says what a FIFO or a device of that name is.
    let mut entries = lister
        .list(dir, |name, kind| {
            matches!(kind, Kind::Dir | Kind::Link)
                || name == TOPOLOGY_FILE
                || name == QUEUES_FILE
                || name == COMMUNICATION_FILE
        })
        .map_err(|e| PathError {
            path: dir.display().to_string(),
            reason: io_reason(&e),
        })?;
    entries.sort_by(|a, b| walk_order(&a.name).cmp(&walk_order(&b.name)));
    let communication = entries
        .iter()
        .find(|e| e.name == COMMUNICATION_FILE && matches!(e.kind, Kind::File | Kind::Link))
        .map(|e| Found::listed(dir.join(&e.name), e.kind));
    let communication = communication.filter(|c| c.listed_regular || c.path.is_file());
    for Entry { name, kind } in entries {
        let path = dir.join(&name);
        let topology = name == TOPOLOGY_FILE || name == QUEUES_FILE;
        match kind {
            Kind::Dir => {
                canonical
                    .dirs
                    .insert(path.as_os_str().to_os_string(), here.join(&name));
                walk(&path, out, visited, canonical, lister)?;
            }
            Kind::Link => match std::fs::metadata(&path) {
                Ok(target) if target.is_dir() => walk(&path, out, visited, canonical, lister)?,
                // A link to a file, or a dangling one: `read` says what it is.
                _ if topology => out.push((Found::listed(path, kind), communication.clone())),
                _ => {}
            },
            // A FIFO or a device of that name too: `read` refuses it, located.
            _ if topology => out.push((Found::listed(path, kind), communication.clone())),
            _ => {}
        }
    }
    Ok(())
}

/// Where a name sorts in a directory: by its bytes, except that
/// queue_topology.queues.xml comes right after queue_topology.xml (the tool's file adds to
/// Magento's, as in an install), not before it.
fn walk_order(name: &OsStr) -> Cow<'_, [u8]> {
    if name == QUEUES_FILE {
        Cow::Owned([TOPOLOGY_FILE.as_bytes(), b"\x01"].concat())
    } else {
        Cow::Borrowed(name.as_encoded_bytes())
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Reads one file into a [`Source`]. Never fails: a file that cannot be read (gone, not a
/// regular file, refused by the OS, too large) becomes a source with `read_error` set,
/// reported like any other problem in a file.
pub fn read(file: &Found, kind: SourceKind) -> Source {
    let path = &file.path;
    let shown = path.display().to_string();
    let name = shown.strip_prefix("./").unwrap_or(&shown).to_string();
    let mut source = match read_file_bytes(path, file.listed_regular) {
        Ok(bytes) => from_bytes(name, bytes, kind),
        Err(reason) => Source::unreadable(name, kind, reason),
    };
    source.path = Some(path.to_path_buf());
    source
}

/// The bytes of a regular file of at most [`MAX_FILE_BYTES`]; otherwise why not, in words.
///
/// What is not a regular file (a FIFO, a device, a socket, a directory) is refused before
/// it is opened; the file is opened non-blocking (a FIFO swapped in between cannot hang
/// the open) and checked again through the open handle; the read itself stops after
/// `MAX_FILE_BYTES + 1` bytes, whatever the metadata said.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    read_file_bytes(path, false)
}

/// [`read_bytes`]; `listed_regular`: a directory listing gave the file as a regular one,
/// so it is opened without a `stat` first (the open handle is checked all the same).
fn read_file_bytes(path: &Path, listed_regular: bool) -> Result<Vec<u8>, String> {
    use std::io::Read;
    if !listed_regular {
        regular(&std::fs::metadata(path).map_err(|e| io_reason(&e))?)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(|e| io_reason(&e))?;
    let meta = file.metadata().map_err(|e| io_reason(&e))?;
    regular(&meta)?;
    let too_large = |n: u64| {
        format!("the file is {n} bytes, more than the {MAX_FILE_BYTES} bytes this tool reads")
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_reason(&e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "the file holds more than the {MAX_FILE_BYTES} bytes this tool reads"
        ));
    }
    Ok(bytes)
}

/// Ok for a regular file; else what it is, as a refusal.
fn regular(meta: &std::fs::Metadata) -> Result<(), String> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() {
        "a directory"
    } else {
        special_file_kind(&kind)
    };
    Err(format!(
        "it is {what}, not a regular file: only regular files are read"
    ))
}

#[cfg(unix)]
fn special_file_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_file_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// Decodes a file's bytes as libxml2 does without iconv: a UTF-16 byte order mark (or
/// `<?` in UTF-16) means UTF-16; else the XML declaration's `encoding` (UTF-8, US-ASCII,
/// ISO-8859-1; UTF-8 when there is none). Another declared encoding is refused, located
/// at its name. Undecodable bytes are replaced and the first one located.
pub fn from_bytes(name: String, bytes: Vec<u8>, kind: SourceKind) -> Source {
    match encoding::detect(&bytes) {
        encoding::Detected::Utf8 => encoding::utf8(name, bytes, kind),
        encoding::Detected::Latin1 => {
            Source::new(name, bytes.iter().map(|b| char::from(*b)).collect(), kind)
        }
        encoding::Detected::Utf16 { big_endian } => encoding::utf16(name, &bytes, big_endian, kind),
        encoding::Detected::Refused { message, at } => {
            let mut s = encoding::utf8(name, bytes, kind);
            s.encoding_error = Some(EncodingError {
                start: at.start,
                end: at.end,
                message,
                label: "this encoding is not read".to_string(),
            });
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A released text comes back as it was; a file changed since comes back as blank
    /// lines of the same lengths, with why, its locations unchanged.
    #[test]
    fn a_released_text_is_read_again_or_refused_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue_topology.xml");
        let text = "<config>\n  <exchange name=\"\u{e9}x\"/>\n</config>\n";
        std::fs::write(&path, text).unwrap();
        let mut s = read(&Found::unlisted(path.clone()), SourceKind::Topology);
        let at = s.location(22);
        s.release_text();
        assert_eq!(s.text, "");
        assert_eq!(s.full_text().unwrap(), text);
        s.restore_text().unwrap();
        assert_eq!(s.text, text);
        assert_eq!(s.location(22), at);

        s.release_text();
        std::fs::write(&path, text.replace("x\"", "y\"")).unwrap();
        let why = s.full_text().unwrap_err();
        assert!(why.contains("changed while it was read"), "{why}");
        let why = s.restore_text().unwrap_err();
        assert!(why.contains("changed"), "{why}");
        assert_eq!(s.text.len(), text.len());
        assert_eq!(s.text.lines().count(), text.lines().count());
        assert!(s.text.trim().is_empty());

        let mut gone = read(&Found::unlisted(path.clone()), SourceKind::Topology);
        gone.release_text();
        std::fs::remove_file(&path).unwrap();
        assert!(gone.full_text().unwrap_err().contains("cannot read"));
    }

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
        assert_eq!(s.encoding_error.map(|e| e.start), Some(3));
    }

    #[test]
    fn columns_of_a_long_line_count_characters() {
        let mut text = String::from("x\n");
        for i in 0..2000 {
            text.push(if i % 3 == 0 { '\u{e9}' } else { 'a' });
        }
        let s = Source::new("f".into(), text.clone(), SourceKind::Topology);
        for offset in (2..text.len()).filter(|o| text.is_char_boundary(*o)) {
            let expected = text[2..offset].chars().count() + 1;
            assert_eq!(s.location(offset), (2, expected), "at byte {offset}");
        }
    }

    #[test]
    fn a_directory_that_cannot_be_listed_is_named() {
        // (Root lists every directory: a missing one stands for an unreadable one.)
        let gone = std::env::temp_dir().join(format!("topology-walk-{}/sub", std::process::id()));
        let err = walk(
            &gone,
            &mut Vec::new(),
            &mut HashSet::default(),
            &mut Canonical::default(),
            &mut Lister::default(),
        )
        .unwrap_err();
        assert_eq!(err.path, gone.display().to_string());
        assert_eq!(err.reason, "no such file or directory");
    }

    /// What a directory's listing shows is not asked again: a topology file and its
    /// `communication.xml` listed as regular files are read without a `stat` first; a link
    /// (to a file, dangling) or a directory of that name is looked at as before.
    #[cfg(unix)]
    #[test]
    fn a_walk_takes_the_types_its_listings_give() {
        use std::os::unix::fs::symlink;
        let root = tempfile::tempdir().unwrap();
        let module = |name: &str| {
            let etc = root.path().join(name).join("etc");
            std::fs::create_dir_all(&etc).unwrap();
            std::fs::write(etc.join(TOPOLOGY_FILE), "<config/>").unwrap();
            etc
        };
        let plain = module("a");
        std::fs::write(plain.join(COMMUNICATION_FILE), "<config/>").unwrap();
        let linked = module("b");
        symlink(
            plain.join(COMMUNICATION_FILE),
            linked.join(COMMUNICATION_FILE),
        )
        .unwrap();
        let dangling = module("c");
        symlink(dangling.join("gone.xml"), dangling.join(COMMUNICATION_FILE)).unwrap();
        let a_dir = module("d");
        std::fs::create_dir(a_dir.join(COMMUNICATION_FILE)).unwrap();
        let none = module("e");
        let link = root.path().join("f/etc");
        std::fs::create_dir_all(&link).unwrap();
        symlink(none.join(TOPOLOGY_FILE), link.join(TOPOLOGY_FILE)).unwrap();

        let found = discover(&[root.path().to_path_buf()], None).unwrap();
        let flags = |files: &[Found]| -> Vec<(PathBuf, bool)> {
            files
                .iter()
                .map(|f| {
                    let rel = f.path.strip_prefix(root.path()).unwrap().to_path_buf();
                    (rel, f.listed_regular)
                })
                .collect()
        };
        let topology = |m: &str| PathBuf::from(m).join("etc").join(TOPOLOGY_FILE);
        // f's file is e's, reached through a link: read once, where first met (e).
        assert_eq!(
            flags(&found.topology),
            ["a", "b", "c", "d", "e"].map(|m| (topology(m), true))
        );
        // b's link leads to a's file, already met: read once.
        assert_eq!(
            flags(&found.communication),
            [(PathBuf::from("a/etc").join(COMMUNICATION_FILE), true)]
        );
        let source = read(&found.topology[0], SourceKind::Topology);
        assert_eq!(
            (source.text.as_str(), source.read_error),
            ("<config/>", None)
        );

        // The link alone, as a PATH: not listed, read as before.
        let found = discover(&[link.join(TOPOLOGY_FILE)], None).unwrap();
        assert_eq!(found.topology, [Found::unlisted(link.join(TOPOLOGY_FILE))]);
        assert!(found.communication.is_empty());
    }

    #[test]
    fn special_files_are_refused_before_reading() {
        let err = read_bytes(Path::new("/dev/zero")).unwrap_err();
        assert!(err.contains("character device"), "{err}");
        let dir = std::env::temp_dir();
        let err = read_bytes(&dir).unwrap_err();
        assert!(err.contains("a directory"), "{err}");
    }
}
