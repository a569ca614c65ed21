//! Magento install reader: the modules of a Magento 2.4 install, in the order and with the
//! enabled flags `bin/magento setup:upgrade` leaves, without running PHP.
//!
//! Takes: the root of an install (a directory holding `app/etc/config.php`). Gives: an
//! [`Install`]: every registered module in Magento's order (`Loader::sortBySequence`), whether
//! it is enabled, its global `etc/queue_topology.xml` and `etc/communication.xml` when they
//! exist, what was left out and why, and the deployment config (`config.php` then `env.php`,
//! merged as PHP's `array_replace_recursive`), from which [`brokers`] reads the AMQP
//! connections. The rules follow Magento's own code: Component/ComponentRegistrar,
//! Module/ModuleList/Loader, App/DeploymentConfig/Reader, MessageQueue/DefaultValueProvider,
//! Amqp/Config.
//!
//! Registration files are read, not run: only literal
//! `ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Name', __DIR__ . '/sub')` calls
//! are understood; anything else is a warning naming the file.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::secret::Secret;
use crate::source::php::{self, PhpArray, PhpError, PhpKey, PhpValue};

/// The module whose recurring setup installs the topology.
pub const AMQP_MODULE: &str = "Magento_Amqp";

/// `app/etc/NonComposerComponentRegistration.php`'s patterns when
/// `app/etc/registration_globlist.php` is absent.
pub const DEFAULT_GLOBS: &[&str] = &[
    "app/code/*/*/registration.php",
    "app/design/*/*/*/registration.php",
    "app/i18n/*/*/registration.php",
    "lib/internal/*/*/registration.php",
    "lib/internal/*/*/*/registration.php",
    "setup/src/*/*/registration.php",
];

/// A Magento install as `setup:upgrade` sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Install {
    /// Every registered module, enabled or not, in Magento's order.
    pub modules: Vec<Module>,
    /// What is left out, and why (disabled modules, entries dropped from config.php, an
    /// install without Magento_Amqp).
    pub skipped: Vec<Skipped>,
    /// `config.php` and `env.php` merged (env wins); `None` when there is no `env.php`.
    pub env: Option<PhpValue>,
    /// What could not be read without running PHP, and other doubts.
    pub warnings: Vec<String>,
}

impl Install {
    /// Whether Magento would provision the topology at all (Magento_Amqp is enabled).
    pub fn provisions(&self) -> bool {
        self.modules
            .iter()
            .any(|m| m.name == AMQP_MODULE && m.enabled)
    }

    /// The enabled modules, in Magento's order: the ones whose files Magento reads.
    pub fn enabled(&self) -> impl Iterator<Item = &Module> {
        self.modules.iter().filter(|m| m.enabled)
    }
}

/// A registered module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// The name in its `etc/module.xml`.
    pub name: String,
    /// Its directory, symbolic links resolved.
    pub dir: PathBuf,
    pub enabled: bool,
    /// `<dir>/etc/queue_topology.xml`, when it exists.
    pub topology: Option<PathBuf>,
    /// `<dir>/etc/queue_topology.queues.xml` ([`super::QUEUES_FILE`]), when it exists: read by
    /// this tool only, after `topology`.
    pub queues: Option<PathBuf>,
    /// `<dir>/etc/communication.xml`, when it exists.
    pub communication: Option<PathBuf>,
}

/// Something left out, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub what: String,
    pub reason: String,
}

/// Why an install cannot be read the way Magento reads it.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{}: {message}", file.display())]
    Read { file: PathBuf, message: String },
    #[error("{}:{}", file.display(), error)]
    Php { file: PathBuf, error: PhpError },
    #[error("{}: {message}", file.display())]
    Shape { file: PathBuf, message: String },
    #[error("{}:{line}: {message}", file.display())]
    Xml {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "module `{name}` is registered twice, in {} and in {} (Magento refuses this)",
        first.display(),
        second.display()
    )]
    DuplicateModule {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("circular sequence reference from '{from}' to '{to}' (in etc/module.xml)")]
    Cycle { from: String, to: String },
}

/// Whether `root` is a Magento install (it holds `app/etc/config.php`).
pub fn is_install(root: &Path) -> bool {
    root.join("app/etc/config.php").is_file()
}

/// Reads the install at `root`: see the module documentation.
pub fn read_install(root: &Path) -> Result<Install, InstallError> {
    let mut warnings = Vec::new();
    let mut skipped = Vec::new();
    let root = canonical(root)?;

    let config_file = root.join("app/etc/config.php");
    let config = read_php_array(&config_file)?;
    let env_file = root.join("app/etc/env.php");
    let env = if env_file.is_file() {
        let env = read_php_array(&env_file)?;
        Some(PhpValue::Array(php::replace_recursive(&config, &env)))
    } else {
        warnings.push(format!(
            "{}: no such file: no broker settings",
            env_file.display()
        ));
        None
    };
    let merged = env
        .clone()
        .unwrap_or_else(|| PhpValue::Array(config.clone()));

    let registrations = registration_files(&root, &mut warnings)?;
    let registered = registered_modules(&registrations, &mut warnings)?;

    // Each registered module's module.xml (Loader::load keys them by the name it gives).
    let mut declared: BTreeMap<String, (PathBuf, Vec<String>)> = BTreeMap::new();
    for (registered_name, dir) in &registered {
        let file = dir.join("etc/module.xml");
        let (name, sequence) = read_module_xml(&file)?;
        if &name != registered_name {
            warnings.push(format!(
                "{}: declares `{name}`, registered as `{registered_name}`: Magento uses `{name}`",
                file.display()
            ));
        }
        if let Some((earlier, _)) = declared.get(&name) {
            warnings.push(format!(
                "{}: `{name}` is also declared in {}: Magento keeps the later one",
                file.display(),
                earlier.display()
            ));
        }
        declared.insert(name, (dir.clone(), sequence));
    }
    let list: Vec<(String, Vec<String>)> = declared
        .iter()
        .map(|(name, (_, sequence))| (name.clone(), sequence.clone()))
        .collect();
    let order = sort_by_sequence(&list)?;

    // setup:upgrade's createModulesConfig: 0 stays 0, a new module is 1.
    let current = merged.get("modules").and_then(PhpValue::as_array);
    let mut modules = Vec::new();
    for name in order {
        let Some((dir, _)) = declared.get(&name) else {
            continue;
        };
        let enabled = match current.and_then(|m| m.get_key(&PhpKey::Str(name.clone()))) {
            None | Some(PhpValue::Null) => true,
            Some(value) => !value.is_empty(),
        };
        if !enabled {
            skipped.push(Skipped {
                what: format!("module {name}"),
                reason: "disabled in app/etc/config.php".to_string(),
            });
        }
        let file = |rel: &str| Some(dir.join(rel)).filter(|p| p.is_file());
        modules.push(Module {
            topology: file(&format!("etc/{}", super::TOPOLOGY_FILE)),
            queues: file(&format!("etc/{}", super::QUEUES_FILE)),
            communication: file("etc/communication.xml"),
            name,
            dir: dir.clone(),
            enabled,
        });
    }
    for (key, _) in current.into_iter().flat_map(PhpArray::iter) {
        let name = key.to_string();
        if !declared.contains_key(&name) {
            skipped.push(Skipped {
                what: format!("module {name}"),
                reason: "listed in app/etc/config.php but not registered: setup:upgrade drops it"
                    .to_string(),
            });
        }
    }
    let install = Install {
        modules,
        skipped,
        env,
        warnings,
    };
    if install.provisions() {
        Ok(install)
    } else {
        let mut install = install;
        install.skipped.push(Skipped {
            what: "install".to_string(),
            reason: format!(
                "{AMQP_MODULE} is not enabled: Magento provisions no topology (its recurring setup installs it)"
            ),
        });
        Ok(install)
    }
}

fn canonical(path: &Path) -> Result<PathBuf, InstallError> {
    path.canonicalize().map_err(|e| InstallError::Read {
        file: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// A file's text: a regular file, read non-blocking and bounded ([`super::read_bytes`]).
fn read_text(file: &Path) -> Result<String, InstallError> {
    let error = |message: String| InstallError::Read {
        file: file.to_path_buf(),
        message,
    };
    let bytes = super::read_bytes(file).map_err(error)?;
    String::from_utf8(bytes).map_err(|_| error("not valid UTF-8".to_string()))
}

fn read_php(file: &Path) -> Result<PhpValue, InstallError> {
    php::parse_return(&read_text(file)?).map_err(|error| InstallError::Php {
        file: file.to_path_buf(),
        error,
    })
}

fn read_php_array(file: &Path) -> Result<PhpArray, InstallError> {
    match read_php(file)? {
        PhpValue::Array(a) => Ok(a),
        _ => Err(InstallError::Shape {
            file: file.to_path_buf(),
            message: "does not return an array".to_string(),
        }),
    }
}

/// The vendor directory: `app/etc/vendor_path.php`, else `vendor`.
fn vendor_dir(root: &Path) -> Result<PathBuf, InstallError> {
    let file = root.join("app/etc/vendor_path.php");
    if !file.is_file() {
        return Ok(root.join("vendor"));
    }
    match read_php(&file)? {
        PhpValue::Str(s) => {
            let rel = s.trim_start_matches("./");
            Ok(root.join(rel))
        }
        _ => Err(InstallError::Shape {
            file,
            message: "does not return a string".to_string(),
        }),
    }
}

/// Every file that may register components, in the order PHP includes them: Composer's
/// autoload files, then the registration globs of the root.
fn registration_files(
    root: &Path,
    warnings: &mut Vec<String>,
) -> Result<Vec<PathBuf>, InstallError> {
    let vendor = vendor_dir(root)?;
    let mut files = Vec::new();
    let autoload = vendor.join("composer/autoload_files.php");
    let installed = vendor.join("composer/installed.json");
    if autoload.is_file() {
        let text = read_text(&autoload)?;
        let value =
            php::parse_composer_return(&text, &vendor.to_string_lossy(), &root.to_string_lossy())
                .map_err(|error| InstallError::Php {
                file: autoload.clone(),
                error,
            })?;
        for (_, v) in value.iter() {
            match v.as_str() {
                Some(path) => files.push(PathBuf::from(path)),
                None => warnings.push(format!(
                    "{}: an entry is not a path: left out",
                    autoload.display()
                )),
            }
        }
    } else if installed.is_file() {
        files.extend(installed_json_files(&installed, &vendor)?);
    } else {
        warnings.push(format!(
            "neither {} nor {}: no Composer-installed module is read",
            autoload.display(),
            installed.display()
        ));
    }
    // The root's own autoload file runs the globs: it is read below, not as a file.
    files.retain(|f| !f.ends_with("app/etc/NonComposerComponentRegistration.php"));

    let globlist = root.join("app/etc/registration_globlist.php");
    let patterns: Vec<String> = if globlist.is_file() {
        let value = read_php(&globlist)?;
        let mut patterns = Vec::new();
        for (_, v) in value.iter() {
            match v.as_str() {
                Some(p) => patterns.push(p.to_string()),
                None => warnings.push(format!(
                    "{}: an entry is not a string: left out",
                    globlist.display()
                )),
            }
        }
        patterns
    } else {
        DEFAULT_GLOBS.iter().map(|p| p.to_string()).collect()
    };
    for pattern in patterns {
        if pattern.contains(['[', '{', '\\']) {
            warnings.push(format!(
                "registration pattern `{pattern}`: only `*` and `?` are supported: left out"
            ));
            continue;
        }
        files.extend(glob(root, &pattern));
    }
    Ok(files)
}

/// `autoload.files` of each package in Composer's `installed.json` (Composer 2:
/// `{"packages": [...]}` with `install-path` relative to `vendor/composer`; Composer 1: a
/// bare array, packages in `vendor/<name>`).
fn installed_json_files(file: &Path, vendor: &Path) -> Result<Vec<PathBuf>, InstallError> {
    let text = read_text(file)?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| InstallError::Xml {
        file: file.to_path_buf(),
        line: e.line(),
        message: e.to_string(),
    })?;
    let packages = json
        .get("packages")
        .and_then(|p| p.as_array())
        .or_else(|| json.as_array())
        .ok_or_else(|| InstallError::Shape {
            file: file.to_path_buf(),
            message: "holds no package list".to_string(),
        })?;
    let mut out = Vec::new();
    for package in packages {
        let dir = match (
            package.get("install-path").and_then(|p| p.as_str()),
            package.get("name").and_then(|n| n.as_str()),
        ) {
            (Some(path), _) => vendor.join("composer").join(path),
            (None, Some(name)) => vendor.join(name),
            (None, None) => continue,
        };
        let files = package
            .get("autoload")
            .and_then(|a| a.get("files"))
            .and_then(|f| f.as_array());
        for f in files.into_iter().flatten().filter_map(|f| f.as_str()) {
            out.push(dir.join(f));
        }
    }
    Ok(out)
}

/// PHP's `glob` for `*` and `?`: neither crosses `/` nor matches a leading dot; the result
/// sorted by bytes (Magento globs with GLOB_NOSORT, but the order of registration does not
/// change the module order, which is sorted by name).
fn glob(root: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut current = vec![root.to_path_buf()];
    for segment in pattern.split('/').filter(|s| !s.is_empty()) {
        let mut next = Vec::new();
        for dir in current {
            if !segment.contains(['*', '?']) {
                let path = dir.join(segment);
                if path.exists() {
                    next.push(path);
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if name.starts_with('.') && !segment.starts_with('.') {
                    continue;
                }
                if wildcard_match(segment.as_bytes(), name.as_bytes()) {
                    next.push(dir.join(name));
                }
            }
        }
        current = next;
    }
    current.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    current
}

/// PHP's `glob()` of one path segment: `*` any bytes, `?` one byte. Greedy with one
/// backtrack point (the last `*`): O(|pattern| × |name|) at worst, where trying every split
/// at every `*` was exponential (`*a*a*a*a*b` against a long name of `a`s).
fn wildcard_match(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    // After the last `*` seen: the pattern position past it, and the name position it
    // matched up to.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                // let the last `*` take one byte more
                Some((after, taken)) => {
                    star = Some((after, taken + 1));
                    p = after;
                    n = taken + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// The modules the registration files register, name → directory, in registration order.
fn registered_modules(
    files: &[PathBuf],
    warnings: &mut Vec<String>,
) -> Result<Vec<(String, PathBuf)>, InstallError> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    let mut from: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in files {
        if !file.is_file() {
            warnings.push(format!(
                "{}: listed by Composer but missing: left out",
                file.display()
            ));
            continue;
        }
        let text = read_text(file)?;
        let (calls, problems) = registrations_in(&text);
        for problem in problems {
            warnings.push(format!("{}: {problem}", file.display()));
        }
        if calls.is_empty() {
            continue;
        }
        let base = canonical(file.parent().unwrap_or(Path::new("/")))?;
        for call in calls {
            let dir = base.join(call.suffix.trim_start_matches('/'));
            let dir = if call.suffix.is_empty() {
                base.clone()
            } else {
                dir
            };
            let dir = canonical(&dir)?;
            if let Some(first) = from.get(&call.name) {
                return Err(InstallError::DuplicateModule {
                    name: call.name,
                    first: first.clone(),
                    second: file.clone(),
                });
            }
            from.insert(call.name.clone(), file.clone());
            out.push((call.name, dir));
        }
    }
    Ok(out)
}

/// One `ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Name', __DIR__ . 'suffix')`.
#[derive(Debug, PartialEq, Eq)]
struct Registration {
    name: String,
    suffix: String,
}

#[derive(Debug, PartialEq)]
enum Tok {
    Name(String),
    DoubleColon,
    Str(String),
    Punct(char),
    /// A string that cannot be read without PHP (interpolation).
    Opaque,
}

/// `text` without PHP comments, as tokens. Strings are kept whole.
fn tokens(text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
        } else if rest.starts_with("/*") {
            rest = rest
                .get(2..)
                .and_then(|r| r.find("*/").map(|i| &r[i + 2..]))
                .unwrap_or("");
        } else if rest.starts_with("//") || c == '#' {
            rest = rest.find('\n').map_or("", |i| &rest[i..]);
        } else if c == '\'' || c == '"' {
            match php::string_literal(rest) {
                Some((value, len)) => {
                    out.push(Tok::Str(value));
                    rest = rest.get(len..).unwrap_or("");
                }
                None => {
                    out.push(Tok::Opaque);
                    // Skip to the closing quote, escapes included.
                    let mut escaped = false;
                    let mut end = rest.len();
                    for (i, ch) in rest.char_indices().skip(1) {
                        if escaped {
                            escaped = false;
                        } else if ch == '\\' {
                            escaped = true;
                        } else if ch == c {
                            end = i + 1;
                            break;
                        }
                    }
                    rest = rest.get(end..).unwrap_or("");
                }
            }
        } else if rest.starts_with("::") {
            out.push(Tok::DoubleColon);
            rest = &rest[2..];
        } else if c.is_alphanumeric() || c == '_' || c == '\\' || c == '$' {
            let end = rest
                .char_indices()
                .skip(1)
                .find(|(_, ch)| !(ch.is_alphanumeric() || *ch == '_' || *ch == '\\'))
                .map_or(rest.len(), |(i, _)| i);
            out.push(Tok::Name(rest[..end].to_string()));
            rest = &rest[end..];
        } else {
            out.push(Tok::Punct(c));
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn is_registrar(name: &str) -> bool {
    matches!(
        name.trim_start_matches('\\'),
        "ComponentRegistrar" | "Magento\\Framework\\Component\\ComponentRegistrar"
    )
}

/// The module registrations of a registration file, and what could not be read.
fn registrations_in(text: &str) -> (Vec<Registration>, Vec<String>) {
    let toks = tokens(text);
    let mentions_registrar = text.contains("ComponentRegistrar");
    let mut calls = Vec::new();
    let mut problems = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        // `X::register(`
        let is_call = matches!(toks.get(i + 1), Some(Tok::DoubleColon))
            && matches!(toks.get(i + 2), Some(Tok::Name(m)) if m.eq_ignore_ascii_case("register"))
            && matches!(toks.get(i + 3), Some(Tok::Punct('(')));
        let Some(Tok::Name(class)) = toks.get(i) else {
            i += 1;
            continue;
        };
        if !is_call {
            i += 1;
            continue;
        }
        if !is_registrar(class) {
            if mentions_registrar {
                problems.push(format!(
                    "cannot read `{class}::register(` without running PHP: left out"
                ));
            }
            i += 4;
            continue;
        }
        match registration_args(toks.get(i + 4..).unwrap_or(&[])) {
            Ok((Some(call), used)) => {
                calls.push(call);
                i += 4 + used;
            }
            Ok((None, used)) => i += 4 + used,
            Err(message) => {
                problems.push(format!(
                    "cannot read a `ComponentRegistrar::register(` call without running PHP ({message}): left out"
                ));
                i += 4;
            }
        }
    }
    (calls, problems)
}

/// The arguments after `register(`: `Some` for a module, `None` for another component
/// type; with the tokens used up to `)`.
fn registration_args(toks: &[Tok]) -> Result<(Option<Registration>, usize), String> {
    let mut at = 0;
    let mut next = || {
        let t = toks.get(at);
        at += 1;
        t
    };
    let kind = match (next(), next(), next()) {
        (Some(Tok::Name(class)), Some(Tok::DoubleColon), Some(Tok::Name(kind)))
            if is_registrar(class) =>
        {
            kind.clone()
        }
        _ => return Err("the type is not a `ComponentRegistrar::` constant".to_string()),
    };
    if next() != Some(&Tok::Punct(',')) {
        return Err("expected `,` after the type".to_string());
    }
    let name = match next() {
        Some(Tok::Str(name)) => name.clone(),
        _ => return Err("the name is not a string literal".to_string()),
    };
    if next() != Some(&Tok::Punct(',')) {
        return Err("expected `,` after the name".to_string());
    }
    match next() {
        Some(Tok::Name(dir)) if dir == "__DIR__" => {}
        _ => return Err("the path is not `__DIR__` or `__DIR__ . '...'`".to_string()),
    }
    let mut suffix = String::new();
    let mut t = next();
    if t == Some(&Tok::Punct('.')) {
        match next() {
            Some(Tok::Str(s)) => suffix = s.clone(),
            _ => return Err("the path is not `__DIR__ . '...'`".to_string()),
        }
        t = next();
    }
    if t == Some(&Tok::Punct(',')) {
        t = next();
    }
    if t != Some(&Tok::Punct(')')) {
        return Err("the path is not `__DIR__` or `__DIR__ . '...'`".to_string());
    }
    let call = (kind == "MODULE").then_some(Registration { name, suffix });
    Ok((call, at))
}

/// `/config/module/@name` and its `sequence/module/@name` list.
fn read_module_xml(file: &Path) -> Result<(String, Vec<String>), InstallError> {
    let text = read_text(file)?;
    let xml_error = |pos: usize, message: String| InstallError::Xml {
        file: file.to_path_buf(),
        line: text.get(..pos).unwrap_or(&text).matches('\n').count() + 1,
        message,
    };
    let mut reader = Reader::from_str(&text);
    let mut stack: Vec<String> = Vec::new();
    let mut name = None;
    let mut sequence = Vec::new();
    loop {
        let pos = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| xml_error(pos, e.to_string()))?;
        let (element, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            Event::End(_) => {
                stack.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let Some(e) = element else { continue };
        let tag = e.name().as_ref().to_string();
        if tag == "module" {
            let path: Vec<&str> = stack.iter().map(String::as_str).collect();
            let attr = name_attr(e).map_err(|m| xml_error(pos, m))?;
            match path.as_slice() {
                ["config"] if name.is_none() => name = attr,
                ["config", "module", "sequence"] => sequence.extend(attr),
                _ => {}
            }
        }
        if !empty {
            stack.push(tag);
        }
    }
    match name {
        Some(name) => Ok((name, sequence)),
        None => Err(xml_error(0, "no `/config/module/@name`".to_string())),
    }
}

fn name_attr(e: &BytesStart<'_>) -> Result<Option<String>, String> {
    for attr in e.attributes().with_checks(true) {
        let attr = attr.map_err(|e| e.to_string())?;
        if attr.key.as_ref() == "name" {
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| e.to_string())?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

/// Magento's `Loader::sortBySequence` (2.4): names sorted (`ksort`), names containing
/// `Magento_` moved to the front in that order, each name's transitive sequence set computed
/// (a cycle is an error), then the "bubble" pass: for i in 0..n-1, for j in i..n, swap i and
/// j when the set of the module now at i holds the name now at j. The loop goes on with the
/// module swapped in at i. This is not a topological sort and gives a different order.
pub fn sort_by_sequence(modules: &[(String, Vec<String>)]) -> Result<Vec<String>, InstallError> {
    let list: BTreeMap<&str, &[String]> = modules
        .iter()
        .map(|(name, seq)| (name.as_str(), seq.as_slice()))
        .collect();
    // ksort: byte order of the names (module names are never numeric strings).
    let (magento, others): (Vec<&str>, Vec<&str>) =
        list.keys().copied().partition(|n| n.contains("Magento_"));
    let names: Vec<&str> = magento.into_iter().chain(others).collect();
    let mut cache: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut expanded: Vec<(&str, Vec<String>)> = Vec::new();
    for name in names {
        let set = expand_sequence(&list, name, &mut cache, &mut Vec::new(), "")?;
        expanded.push((name, set));
    }
    let total = expanded.len();
    for i in 0..total.saturating_sub(1) {
        for j in i..total {
            let hit = match (expanded.get(i), expanded.get(j)) {
                (Some((_, set)), Some((name, _))) => set.iter().any(|s| s == name),
                _ => false,
            };
            if hit {
                expanded.swap(i, j);
            }
        }
    }
    Ok(expanded.into_iter().map(|(n, _)| n.to_string()).collect())
}

/// Loader::expandSequence: the transitive sequence of `name`; modules not in `list` count
/// as having none.
fn expand_sequence(
    list: &BTreeMap<&str, &[String]>,
    name: &str,
    cache: &mut BTreeMap<String, Vec<String>>,
    accumulated: &mut Vec<String>,
    parent: &str,
) -> Result<Vec<String>, InstallError> {
    if accumulated.iter().any(|a| a == name) {
        return Err(InstallError::Cycle {
            from: parent.to_string(),
            to: name.to_string(),
        });
    }
    if let Some(done) = cache.get(name) {
        return Ok(done.clone());
    }
    accumulated.push(name.to_string());
    let direct: &[String] = list.get(name).copied().unwrap_or(&[]);
    let mut all: Vec<String> = Vec::new();
    for related in direct {
        let sub = expand_sequence(list, related, cache, accumulated, name)?;
        for s in sub {
            if !all.contains(&s) {
                all.push(s);
            }
        }
    }
    for s in direct {
        if !all.contains(s) {
            all.push(s.clone());
        }
    }
    accumulated.pop();
    cache.insert(name.to_string(), all.clone());
    Ok(all)
}

/// The brokers of a deployment config (`queue` of config.php + env.php merged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brokers {
    /// `queue/default_connection`, else `amqp` when `queue/amqp` is a non-empty array, else
    /// `db` (DefaultValueProvider::getConnection).
    pub default_connection: String,
    /// `amqp` when `queue/amqp` is set, then every key of `queue/connections`.
    pub connections: Vec<AmqpConnection>,
    /// Settings Magento would refuse or that are not understood.
    pub warnings: Vec<String>,
}

/// One AMQP connection's settings, as Amqp\Config reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmqpConnection {
    pub name: String,
    pub host: Option<String>,
    /// As written (a string or an int); see [`AmqpConnection::port_number`].
    pub port: Option<String>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// `/` when not set.
    pub virtualhost: String,
    /// TLS: only when `ssl` is the string `true` after trimming (a PHP `true` is not).
    pub tls: bool,
    pub ssl_options: SslOptions,
}

impl AmqpConnection {
    pub fn port_number(&self) -> Option<u16> {
        self.port.as_deref().and_then(|p| p.trim().parse().ok())
    }

    /// The AMQP URL of these settings (user, password and vhost percent-encoded; `amqps`
    /// when TLS is on), or why there is none. The password is registered for redaction.
    pub fn url(&self) -> Result<String, String> {
        use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
        const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        let enc = |s: &str| utf8_percent_encode(s, UNRESERVED).to_string();
        let host = self
            .host
            .as_deref()
            .filter(|h| !h.trim().is_empty())
            .ok_or_else(|| format!("connection `{}` in env.php has no host", self.name))?;
        let port = match &self.port {
            None => {
                if self.tls {
                    5671
                } else {
                    5672
                }
            }
            Some(_) => self.port_number().ok_or_else(|| {
                format!(
                    "connection `{}` in env.php has a port that is not a number",
                    self.name
                )
            })?,
        };
        let userinfo = match (&self.user, &self.password) {
            (Some(u), Some(p)) => {
                crate::secret::register(p.expose());
                crate::secret::register(&enc(p.expose()));
                format!("{}:{}@", enc(u), enc(p.expose()))
            }
            (Some(u), None) => format!("{}@", enc(u)),
            _ => String::new(),
        };
        let scheme = if self.tls { "amqps" } else { "amqp" };
        Ok(format!(
            "{scheme}://{userinfo}{}:{port}/{}",
            host.trim(),
            enc(&self.virtualhost)
        ))
    }
}

/// `ssl_options` of a connection (PHP stream context options). Its `Debug` shows no
/// passphrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SslOptions {
    pub cafile: Option<String>,
    pub local_cert: Option<String>,
    pub local_pk: Option<String>,
    /// On unless set to a false value.
    pub verify_peer: bool,
    /// The passphrase of an encrypted key.
    pub passphrase: Option<Secret>,
    /// The other keys set (`passphrase`, `verify_peer_name`, `allow_self_signed`, …), which
    /// this tool does not use: names only, in the order written.
    pub ignored: Vec<String>,
}

/// The `ssl_options` keys this tool uses.
const SSL_OPTIONS_USED: [&str; 4] = ["cafile", "local_cert", "local_pk", "verify_peer"];

/// A PHP scalar as the string PHP would pass on (ints in decimal).
fn php_string(value: Option<&PhpValue>) -> Option<String> {
    match value? {
        PhpValue::Str(s) => Some(s.clone()),
        PhpValue::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads the brokers of `merged` (Magento's part C rules).
pub fn brokers(merged: &PhpValue) -> Brokers {
    let mut warnings = Vec::new();
    let queue = merged.get("queue");
    let amqp = queue.and_then(|q| q.get("amqp"));
    let default_connection = match queue.and_then(|q| q.get("default_connection")) {
        Some(v) if !v.is_empty() => php_string(Some(v)).unwrap_or_else(|| {
            warnings.push("queue/default_connection is not a string".to_string());
            "db".to_string()
        }),
        _ if amqp.is_some_and(|a| a.as_array().is_some_and(|a| !a.is_empty())) => {
            "amqp".to_string()
        }
        _ => "db".to_string(),
    };
    let mut names: Vec<String> = Vec::new();
    if amqp.is_some_and(|a| *a != PhpValue::Null) {
        names.push("amqp".to_string());
    }
    let named = queue.and_then(|q| q.get("connections"));
    for (key, _) in named.into_iter().flat_map(PhpValue::iter) {
        let name = key.to_string();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let mut connections = Vec::new();
    for name in names {
        let settings = if name == "amqp" {
            amqp
        } else {
            named.and_then(|c| c.get(&name))
        };
        let Some(settings) = settings.filter(|s| !s.is_empty() && s.as_array().is_some()) else {
            warnings.push(format!(
                "connection `{name}`: no settings (Magento: \"Unknown connection name {name}\")"
            ));
            continue;
        };
        let get = |key: &str| php_string(settings.get(key));
        let ssl = settings.get("ssl");
        let options = settings.get("ssl_options");
        let option = |key: &str| php_string(options.and_then(|o| o.get(key)));
        connections.push(AmqpConnection {
            host: get("host"),
            port: get("port"),
            user: get("user"),
            password: get("password").map(Secret::new),
            virtualhost: get("virtualhost").unwrap_or_else(|| "/".to_string()),
            tls: matches!(ssl, Some(PhpValue::Str(s)) if s.trim() == "true"),
            ssl_options: SslOptions {
                cafile: option("cafile"),
                local_cert: option("local_cert"),
                local_pk: option("local_pk"),
                verify_peer: match options.and_then(|o| o.get("verify_peer")) {
                    None | Some(PhpValue::Null) => true,
                    Some(v) => !v.is_empty(),
                },
                passphrase: option("passphrase").map(Secret::new),
                ignored: options
                    .into_iter()
                    .flat_map(PhpValue::iter)
                    .map(|(key, _)| key.to_string())
                    .filter(|key| !SSL_OPTIONS_USED.contains(&key.as_str()))
                    .collect(),
            },
            name,
        });
    }
    Brokers {
        default_connection,
        connections,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/magento-install")
            .canonicalize()
            .unwrap()
    }

    fn graph(modules: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        modules
            .iter()
            .map(|(n, s)| (n.to_string(), s.iter().map(|x| x.to_string()).collect()))
            .collect()
    }

    fn sorted(modules: &[(&str, &[&str])]) -> Vec<String> {
        sort_by_sequence(&graph(modules)).unwrap()
    }

    #[test]
    fn order_is_magentos_bubble_pass_not_a_topological_sort() {
        // A needs C. i=0: A's set {C} holds C at j=2: swap → C, B, A. A topological sort
        // keeping the name order as far as it can would give B, C, A or C, A, B.
        assert_eq!(
            sorted(&[("A", &["C"]), ("B", &[]), ("C", &[])]),
            ["C", "B", "A"]
        );
        // A needs D, D needs B. i=0: A {D, B}: j=1 B → B, A, C, D (B now at 0, set {});
        // i=1: A: j=3 D → B, D, C, A (D at 1, set {B}); i=2: C: nothing.
        assert_eq!(
            sorted(&[("A", &["D"]), ("B", &[]), ("C", &[]), ("D", &["B"])]),
            ["B", "D", "C", "A"]
        );
        // Input order does not matter: names are sorted first (ksort, byte order).
        assert_eq!(
            sorted(&[("b", &[]), ("B", &[]), ("a", &[])]),
            ["B", "a", "b"]
        );
    }

    #[test]
    fn magento_names_go_first_even_inside_a_name() {
        assert_eq!(
            sorted(&[("Acme_X", &[]), ("Zed_Magento_Q", &[]), ("Magento_Y", &[])]),
            ["Magento_Y", "Zed_Magento_Q", "Acme_X"]
        );
        // A Magento module needing a third-party one still moves behind it.
        assert_eq!(
            sorted(&[("Acme_X", &[]), ("Magento_Y", &["Acme_X"])]),
            ["Acme_X", "Magento_Y"]
        );
    }

    #[test]
    fn unknown_sequence_entries_are_ignored_and_cycles_refused() {
        assert_eq!(sorted(&[("A", &["Missing"]), ("B", &[])]), ["A", "B"]);
        let err = sort_by_sequence(&graph(&[("A", &["B"]), ("B", &["A"])])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "circular sequence reference from 'B' to 'A' (in etc/module.xml)"
        );
        assert!(sort_by_sequence(&graph(&[("A", &["A"])])).is_err());
    }

    #[test]
    fn reads_the_fixture_install_in_magentos_order() {
        let root = fixture();
        assert!(is_install(&root));
        assert!(!is_install(&root.join("app")));
        let install = read_install(&root).unwrap();
        let names: Vec<(&str, bool)> = install
            .modules
            .iter()
            .map(|m| (m.name.as_str(), m.enabled))
            .collect();
        // ksort + Magento_ first: Amqp, Admin, Alpha, Base, Off, Zeta. i=1: Admin {Base}
        // swaps with Base; i=2: Alpha {Zeta, Base, Amqp} swaps with Zeta (at the end).
        assert_eq!(
            names,
            [
                ("Magento_Amqp", true),
                ("Acme_Base", true),
                ("Zeta_Orders", true),
                ("Acme_Admin", true),
                ("Acme_Off", false),
                ("Acme_Alpha", true),
            ]
        );
        let module = |name: &str| install.modules.iter().find(|m| m.name == name).unwrap();
        assert_eq!(
            module("Zeta_Orders").dir,
            root.join("vendor/zeta/orders/src")
        );
        assert_eq!(module("Acme_Base").dir, root.join("app/code/Acme/Base"));
        let files: Vec<(&str, Option<PathBuf>, Option<PathBuf>)> = install
            .modules
            .iter()
            .map(|m| (m.name.as_str(), m.topology.clone(), m.communication.clone()))
            .collect();
        let base = root.join("app/code/Acme/Base/etc");
        let zeta = root.join("vendor/zeta/orders/src/etc");
        assert_eq!(
            files,
            [
                ("Magento_Amqp", None, None),
                (
                    "Acme_Base",
                    Some(base.join("queue_topology.xml")),
                    Some(base.join("communication.xml"))
                ),
                (
                    "Zeta_Orders",
                    Some(zeta.join("queue_topology.xml")),
                    Some(zeta.join("communication.xml"))
                ),
                // Only etc/adminhtml/queue_topology.xml: never read.
                ("Acme_Admin", None, None),
                (
                    "Acme_Off",
                    Some(root.join("app/code/Acme/Off/etc/queue_topology.xml")),
                    None
                ),
                ("Acme_Alpha", None, None),
            ]
        );
        // dev/tests is never globbed; the theme is not a module.
        assert!(
            install
                .modules
                .iter()
                .all(|m| m.name != "Magento_TestModule")
        );
        assert_eq!(
            install.skipped,
            [
                Skipped {
                    what: "module Acme_Off".to_string(),
                    reason: "disabled in app/etc/config.php".to_string(),
                },
                Skipped {
                    what: "module Acme_Gone".to_string(),
                    reason:
                        "listed in app/etc/config.php but not registered: setup:upgrade drops it"
                            .to_string(),
                },
            ]
        );
        assert!(install.provisions());
        assert_eq!(install.warnings.len(), 1, "{:?}", install.warnings);
        let warning = &install.warnings[0];
        assert!(
            warning.starts_with(&format!(
                "{}: cannot read a `ComponentRegistrar::register(` call",
                root.join("app/code/Acme/Weird/registration.php").display()
            )),
            "{warning}"
        );
        let enabled: Vec<&str> = install.enabled().map(|m| m.name.as_str()).collect();
        assert_eq!(
            enabled,
            [
                "Magento_Amqp",
                "Acme_Base",
                "Zeta_Orders",
                "Acme_Admin",
                "Acme_Alpha"
            ]
        );
    }

    #[test]
    fn brokers_of_the_fixture() {
        let install = read_install(&fixture()).unwrap();
        let merged = install.env.expect("env.php is there");
        // config.php and env.php merged.
        assert!(merged.get_path(&["modules", "Magento_Amqp"]).is_some());
        let brokers = brokers(&merged);
        assert_eq!(brokers.default_connection, "amqp");
        assert!(brokers.warnings.is_empty(), "{:?}", brokers.warnings);
        assert_eq!(
            brokers.connections,
            [
                AmqpConnection {
                    name: "amqp".to_string(),
                    host: Some("rabbit.internal".to_string()),
                    port: Some("5672".to_string()),
                    user: Some("magento".to_string()),
                    password: Some(Secret::new("fixture-amqp-pass")),
                    virtualhost: "/shop".to_string(),
                    tls: false,
                    ssl_options: SslOptions {
                        cafile: None,
                        local_cert: None,
                        local_pk: None,
                        verify_peer: true,
                        passphrase: None,
                        ignored: vec![],
                    },
                },
                AmqpConnection {
                    name: "events".to_string(),
                    host: Some("events.internal".to_string()),
                    port: Some("5671".to_string()),
                    user: Some("events".to_string()),
                    password: Some(Secret::new("fixture-events-pass")),
                    virtualhost: "/".to_string(),
                    tls: true,
                    ssl_options: SslOptions {
                        cafile: Some("/etc/ssl/ca.pem".to_string()),
                        local_cert: None,
                        local_pk: None,
                        verify_peer: false,
                        passphrase: None,
                        ignored: vec![],
                    },
                },
            ]
        );
        assert_eq!(brokers.connections[1].port_number(), Some(5671));
        let shown = format!("{brokers:?}");
        assert!(!shown.contains("fixture-amqp-pass") && !shown.contains("fixture-events-pass"));
    }

    #[test]
    fn broker_defaults() {
        let b = |text: &str| brokers(&php::parse_return(text).unwrap());
        let none = b("<?php return [];");
        assert_eq!(
            (none.default_connection.as_str(), none.connections.len()),
            ("db", 0)
        );
        let empty = b("<?php return ['queue' => ['amqp' => []]];");
        assert_eq!(empty.default_connection, "db");
        assert_eq!(
            empty.warnings.len(),
            1,
            "an empty amqp is refused by Magento"
        );
        let bool_ssl = b("<?php return ['queue' => ['amqp' => ['host' => 'h', 'ssl' => true]]];");
        assert_eq!(bool_ssl.default_connection, "amqp");
        assert!(
            !bool_ssl.connections[0].tls,
            "a PHP true does not enable TLS"
        );
        let named = b(
            "<?php return ['queue' => ['default_connection' => 'x', 'connections' => ['x' => ['host' => 'h', 'ssl' => 'true']]]];",
        );
        assert_eq!(named.default_connection, "x");
        assert_eq!(named.connections.len(), 1);
        assert!(named.connections[0].tls);
        let options = b(
            "<?php return ['queue' => ['amqp' => ['host' => 'h', 'ssl' => 'true', 'ssl_options' => [\
             'local_cert' => 'c.pem', 'passphrase' => 'Pass-phrase-9', 'verify_peer_name' => false, \
             'cafile' => 'ca.pem', 'allow_self_signed' => true]]]];",
        );
        let options = &options.connections[0].ssl_options;
        assert_eq!(options.local_cert.as_deref(), Some("c.pem"));
        assert_eq!(options.cafile.as_deref(), Some("ca.pem"));
        assert!(options.verify_peer);
        assert_eq!(
            options.passphrase.as_ref().map(Secret::expose),
            Some("Pass-phrase-9")
        );
        assert_eq!(
            options.ignored,
            ["passphrase", "verify_peer_name", "allow_self_signed"]
        );
        assert!(!format!("{options:?}").contains("Pass-phrase-9"));
    }

    #[test]
    fn registration_calls() {
        let (calls, problems) = registrations_in(
            "<?php\n// ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Commented_Out', __DIR__);\n\\Magento\\Framework\\Component\\ComponentRegistrar::register(\n  \\Magento\\Framework\\Component\\ComponentRegistrar::MODULE, \"A_One\", __DIR__ . '/src',\n);\nComponentRegistrar::register(ComponentRegistrar::LIBRARY, 'lib', __DIR__);\nComponentRegistrar::register(ComponentRegistrar::MODULE, 'A_Two', __DIR__);\nComponentRegistrar::register(ComponentRegistrar::MODULE, A_CONST, __DIR__);\n",
        );
        assert_eq!(
            calls,
            [
                Registration {
                    name: "A_One".to_string(),
                    suffix: "/src".to_string()
                },
                Registration {
                    name: "A_Two".to_string(),
                    suffix: String::new()
                },
            ]
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("the name is not a string literal"));
    }

    /// A small install in a temporary directory: `(path, content)` pairs.
    fn install(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        dir
    }

    fn module(name: &str) -> String {
        format!("<config><module name=\"{name}\"/></config>")
    }

    fn registration(name: &str) -> String {
        format!(
            "<?php ComponentRegistrar::register(ComponentRegistrar::MODULE, '{name}', __DIR__);"
        )
    }

    #[test]
    fn without_magento_amqp_nothing_is_provisioned() {
        let (reg, xml) = (registration("Acme_A"), module("Acme_A"));
        let dir = install(&[
            ("app/etc/config.php", "<?php return ['modules' => []];"),
            ("app/code/Acme/A/registration.php", &reg),
            ("app/code/Acme/A/etc/module.xml", &xml),
        ]);
        let install = read_install(dir.path()).unwrap();
        assert!(!install.provisions());
        assert_eq!(install.env, None);
        assert_eq!(install.skipped.len(), 1);
        assert_eq!(install.skipped[0].what, "install");
        assert!(
            install.skipped[0]
                .reason
                .starts_with("Magento_Amqp is not enabled")
        );
    }

    #[test]
    fn a_module_registered_twice_is_an_error() {
        let (reg, xml) = (registration("Acme_A"), module("Acme_A"));
        let dir = install(&[
            ("app/etc/config.php", "<?php return ['modules' => []];"),
            ("app/code/Acme/A/registration.php", &reg),
            ("app/code/Acme/A/etc/module.xml", &xml),
            ("app/code/Acme/B/registration.php", &reg),
        ]);
        let err = read_install(dir.path()).unwrap_err();
        assert!(
            matches!(err, InstallError::DuplicateModule { ref name, .. } if name == "Acme_A"),
            "{err}"
        );
    }

    #[test]
    fn composer_1_installed_json_and_unreadable_config() {
        let (reg, xml) = (registration("Magento_Amqp"), module("Magento_Amqp"));
        let dir = install(&[
            (
                "app/etc/config.php",
                "<?php return ['modules' => ['Magento_Amqp' => 1]];",
            ),
            (
                "app/etc/env.php",
                "<?php return ['queue' => ['amqp' => ['host' => getenv('H')]]];",
            ),
            (
                "vendor/composer/installed.json",
                r#"[{"name": "magento/module-amqp", "autoload": {"files": ["registration.php"]}}]"#,
            ),
            ("vendor/magento/module-amqp/registration.php", &reg),
            ("vendor/magento/module-amqp/etc/module.xml", &xml),
        ]);
        let err = read_install(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("env.php:1:48: cannot read `getenv(` without running PHP"),
            "{err}"
        );
        std::fs::remove_file(dir.path().join("app/etc/env.php")).unwrap();
        let install = read_install(dir.path()).unwrap();
        assert_eq!(install.modules.len(), 1);
        assert!(install.provisions());
    }

    /// Issue 11: a registration glob with many `*` against a long directory name tried every
    /// split at every `*` (exponential); now one backtrack point.
    #[test]
    fn many_stars_against_a_long_name_answer() {
        let name = "a".repeat(255);
        let pattern = format!("{}b", "*a".repeat(40));
        assert!(!wildcard_match(pattern.as_bytes(), name.as_bytes()));
        let pattern = "*a".repeat(40);
        assert!(wildcard_match(pattern.as_bytes(), name.as_bytes()));
    }

    #[test]
    fn glob_stays_in_one_level_and_skips_dot_names() {
        assert!(wildcard_match(b"*", b"Acme"));
        assert!(wildcard_match(b"re?istration.php", b"registration.php"));
        assert!(!wildcard_match(b"*.php", b"a.phpx"));
        assert!(wildcard_match(b"*.php*", b"a.php"));
        assert!(wildcard_match(b"a*b?d", b"aXbbcd"));
        assert!(!wildcard_match(b"?", b""));
        assert!(wildcard_match(b"", b""));
        assert!(!wildcard_match(b"", b"a"));
        let dir = install(&[
            ("app/code/A/B/registration.php", ""),
            ("app/code/.hidden/B/registration.php", ""),
            ("app/code/A/B/C/registration.php", ""),
        ]);
        let found = glob(dir.path(), "app/code/*/*/registration.php");
        assert_eq!(found, [dir.path().join("app/code/A/B/registration.php")]);
    }
}
