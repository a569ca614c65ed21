//! PHP reader: the constant array subset that Magento and Composer write, read exactly.
//!
//! Takes: the text of a PHP file of the form `<?php return [...];` (`app/etc/config.php`,
//! `app/etc/env.php`, `vendor_path.php`, `registration_globlist.php`), or Composer's
//! `autoload_files.php`, whose values are `$vendorDir . '/path'` or `$baseDir . '/path'`.
//! Gives: a [`PhpValue`], with PHP's array semantics (insertion order; a repeated key keeps
//! its first position and takes the last value; `'5'` as a key is the int 5; a value without
//! a key gets the next int key).
//!
//! Anything that would need PHP to run (function calls, constants, `__DIR__`, variables,
//! concatenation, string interpolation, heredocs, octal or hex numbers) is refused with a
//! [`PhpError`] naming the line and column: never a guess, never a panic.

use std::fmt;

use rustc_hash::FxHashMap;

/// Deepest array nesting read; deeper is refused (it would only come from a broken file).
pub const MAX_DEPTH: usize = 128;

/// A PHP value of the subset read here.
#[derive(Clone, Debug, PartialEq)]
pub enum PhpValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(PhpArray),
}

/// A PHP array key: PHP turns decimal integer strings into ints.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PhpKey {
    Int(i64),
    Str(String),
}

impl PhpKey {
    /// The key PHP uses for the string `key`: `"5"` is the int 5, `"05"` or `"-0"` stay
    /// strings.
    pub fn from_str_key(key: &str) -> PhpKey {
        let digits = key.strip_prefix('-').unwrap_or(key);
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
            && key != "-0";
        match key.parse::<i64>() {
            Ok(n) if canonical => PhpKey::Int(n),
            _ => PhpKey::Str(key.to_string()),
        }
    }
}

impl fmt::Display for PhpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhpKey::Int(n) => write!(f, "{n}"),
            PhpKey::Str(s) => f.write_str(s),
        }
    }
}

/// An ordered PHP array.
#[derive(Clone, Debug, Default)]
pub struct PhpArray {
    entries: Vec<(PhpKey, PhpValue)>,
    index: FxHashMap<PhpKey, usize>,
    /// The key a value appended without a key gets (PHP 8.3: one above the largest int
    /// key, 0 when there is none).
    next_int: Option<i64>,
}

impl PartialEq for PhpArray {
    fn eq(&self, other: &PhpArray) -> bool {
        self.entries == other.entries
    }
}

impl PhpArray {
    pub fn new() -> PhpArray {
        PhpArray::default()
    }

    /// `$a[$key] = $value`: a key already present keeps its position.
    pub fn insert(&mut self, key: PhpKey, value: PhpValue) {
        if let PhpKey::Int(n) = key {
            let next = n.saturating_add(1);
            self.next_int = Some(self.next_int.map_or(next, |a| a.max(next)));
        }
        match self.index.get(&key) {
            Some(&i) => {
                if let Some(entry) = self.entries.get_mut(i) {
                    entry.1 = value;
                }
            }
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    /// `$a[] = $value`. `None` when PHP refuses it (the next key would overflow).
    pub fn push(&mut self, value: PhpValue) -> Option<()> {
        let key = self.next_int.unwrap_or(0);
        if self.index.contains_key(&PhpKey::Int(key)) {
            return None;
        }
        self.insert(PhpKey::Int(key), value);
        Some(())
    }

    /// The value of `key`, written as PHP would normalise it (`"5"` finds the int key 5).
    pub fn get(&self, key: &str) -> Option<&PhpValue> {
        self.get_key(&PhpKey::from_str_key(key))
    }

    pub fn get_key(&self, key: &PhpKey) -> Option<&PhpValue> {
        self.index
            .get(key)
            .and_then(|&i| self.entries.get(i))
            .map(|(_, v)| v)
    }

    /// Entries in PHP's order.
    pub fn iter(&self) -> impl Iterator<Item = (&PhpKey, &PhpValue)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl PhpValue {
    /// `$value[$key]` when the value is an array.
    pub fn get(&self, key: &str) -> Option<&PhpValue> {
        self.as_array().and_then(|a| a.get(key))
    }

    /// `$value[$a][$b]...`.
    pub fn get_path(&self, path: &[&str]) -> Option<&PhpValue> {
        path.iter().try_fold(self, |value, key| value.get(key))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            PhpValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            PhpValue::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&PhpArray> {
        match self {
            PhpValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries of an array; nothing for any other value.
    pub fn iter(&self) -> impl Iterator<Item = (&PhpKey, &PhpValue)> {
        self.as_array().into_iter().flat_map(|a| a.iter())
    }

    /// PHP's `empty()`.
    pub fn is_empty(&self) -> bool {
        match self {
            PhpValue::Null => true,
            PhpValue::Bool(b) => !b,
            PhpValue::Int(n) => *n == 0,
            PhpValue::Float(f) => *f == 0.0,
            PhpValue::Str(s) => s.is_empty() || s == "0",
            PhpValue::Array(a) => a.is_empty(),
        }
    }
}

/// PHP's `array_replace_recursive($base, $replacement)`: a key of `replacement` whose value
/// and base value are both arrays is merged recursively; otherwise it replaces the base value
/// (keeping the base's position) or is appended.
pub fn replace_recursive(base: &PhpArray, replacement: &PhpArray) -> PhpArray {
    let mut out = base.clone();
    for (key, value) in replacement.iter() {
        let merged = match (out.get_key(key), value) {
            (Some(PhpValue::Array(b)), PhpValue::Array(r)) => {
                PhpValue::Array(replace_recursive(b, r))
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), merged);
    }
    out
}

/// Why a file cannot be read without running PHP. `line` and `column` are 1-based; the
/// column counts characters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct PhpError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Reads `<?php return <value>;` (an optional `?>` may follow).
pub fn parse_return(text: &str) -> Result<PhpValue, PhpError> {
    let mut p = Parser::new(text, &[]);
    p.open_tag()?;
    p.expect_keyword("return")?;
    p.finish_return()
}

/// Reads Composer's `autoload_files.php`: statements before `return` are skipped, and the
/// values `$vendorDir . '/path'` and `$baseDir . '/path'` are read as `vendor_dir` +
/// `/path` and `base_dir` + `/path`.
pub fn parse_composer_return(
    text: &str,
    vendor_dir: &str,
    base_dir: &str,
) -> Result<PhpValue, PhpError> {
    let vars = [("vendorDir", vendor_dir), ("baseDir", base_dir)];
    let mut p = Parser::new(text, &vars);
    p.open_tag()?;
    // Skip `$vendorDir = dirname(__DIR__);` and the like, up to the `return` statement.
    loop {
        p.skip_trivia()?;
        if p.at_end() {
            return Err(p.error_here("no `return` statement in the file"));
        }
        if p.peek_word().is_some_and(|w| w == "return") {
            break;
        }
        p.skip_token()?;
    }
    p.expect_keyword("return")?;
    p.finish_return()
}

/// Reads the PHP string literal (single- or double-quoted) at the start of `text`: its value
/// and the bytes it spans. `None` when `text` does not start with one that can be read
/// without running PHP.
pub fn string_literal(text: &str) -> Option<(String, usize)> {
    let mut p = Parser {
        text,
        pos: 0,
        vars: &[],
    };
    if !matches!(p.peek(), Some('\'') | Some('"')) {
        return None;
    }
    let value = p.string().ok()?;
    Some((value, p.pos))
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    vars: &'a [(&'a str, &'a str)],
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, vars: &'a [(&'a str, &'a str)]) -> Parser<'a> {
        let pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Parser { text, pos, vars }
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn error_at(&self, pos: usize, message: impl Into<String>) -> PhpError {
        let before = self.text.get(..pos).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        PhpError {
            line,
            column,
            message: message.into(),
        }
    }

    fn error_here(&self, message: impl Into<String>) -> PhpError {
        self.error_at(self.pos, message)
    }

    fn open_tag(&mut self) -> Result<(), PhpError> {
        let rest = self.rest();
        let tag_ok = rest
            .get(..5)
            .is_some_and(|t| t.eq_ignore_ascii_case("<?php"))
            && rest
                .get(5..)
                .is_some_and(|r| r.chars().next().is_none_or(char::is_whitespace));
        if !tag_ok {
            return Err(self.error_here("the file does not start with `<?php`"));
        }
        self.pos += 5;
        Ok(())
    }

    /// Skips whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), PhpError> {
        loop {
            let rest = self.rest();
            if let Some(c) = rest.chars().next()
                && c.is_whitespace()
            {
                self.pos += c.len_utf8();
            } else if rest.starts_with("/*") {
                let start = self.pos;
                match rest.get(2..).and_then(|r| r.find("*/")) {
                    Some(end) => self.pos += 2 + end + 2,
                    None => return Err(self.error_at(start, "unterminated `/*` comment")),
                }
            } else if rest.starts_with("#[") {
                return Err(self.error_here("cannot read the attribute `#[` without running PHP"));
            } else if rest.starts_with("//") || rest.starts_with('#') {
                // A line comment ends at the end of the line or at `?>`.
                let line_end = rest.find('\n').unwrap_or(rest.len());
                let end = rest
                    .get(..line_end)
                    .and_then(|l| l.find("?>"))
                    .unwrap_or(line_end);
                self.pos += end;
            } else {
                return Ok(());
            }
        }
    }

    fn peek_word(&self) -> Option<&'a str> {
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || !c.is_ascii()))
            .unwrap_or(rest.len());
        let word = rest.get(..end)?;
        let first = word.chars().next()?;
        (first.is_alphabetic() || first == '_' || !first.is_ascii()).then_some(word)
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<(), PhpError> {
        self.skip_trivia()?;
        match self.peek_word() {
            Some(w) if w.eq_ignore_ascii_case(keyword) => {
                self.pos += w.len();
                Ok(())
            }
            _ => Err(self.error_here(format!(
                "expected `{keyword}`: only `<?php return [...];` can be read without running PHP"
            ))),
        }
    }

    fn expect_char(&mut self, c: char, what: &str) -> Result<(), PhpError> {
        self.skip_trivia()?;
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }

    /// After `return`: the value, `;` or `?>`, then nothing but trivia or `?>`.
    fn finish_return(&mut self) -> Result<PhpValue, PhpError> {
        let value = self.value(0)?;
        self.skip_trivia()?;
        // `?>` ends a statement as `;` does.
        if !self.rest().starts_with("?>") {
            self.expect_char(';', "`;` after the returned value")?;
        }
        self.skip_trivia()?;
        if self.at_end() || self.rest().starts_with("?>") {
            Ok(value)
        } else {
            Err(self.error_here(
                "code after the `return` statement: only `<?php return [...];` can be read",
            ))
        }
    }

    /// Skips one token of a statement before `return` (Composer's variable assignments).
    fn skip_token(&mut self) -> Result<(), PhpError> {
        match self.peek() {
            Some('\'') | Some('"') => {
                self.string().map(|_| ())?;
            }
            Some('$') => {
                self.bump();
                if let Some(w) = self.peek_word() {
                    self.pos += w.len();
                }
            }
            Some(_) => {
                if let Some(w) = self.peek_word() {
                    self.pos += w.len();
                } else {
                    self.bump();
                }
            }
            None => {}
        }
        Ok(())
    }

    /// An error for the token at the current position.
    fn unexpected(&self, expected: &str) -> PhpError {
        let rest = self.rest();
        if rest.is_empty() {
            return self.error_here(format!("the file ends where {expected} was expected"));
        }
        if let Some(word) = self.peek_word() {
            let after = rest.get(word.len()..).unwrap_or("").trim_start();
            let shown = if after.starts_with('(') {
                format!("{word}(")
            } else {
                word.to_string()
            };
            return self.error_here(format!("cannot read `{shown}` without running PHP"));
        }
        if let Some(var) = rest.strip_prefix('$') {
            let name: String = var
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            return self.error_here(format!(
                "cannot read the variable `${name}` without running PHP"
            ));
        }
        if rest.starts_with('.') {
            return self.error_here("cannot read the concatenation `.` without running PHP");
        }
        if rest.starts_with("<<<") {
            return self.error_here("cannot read a heredoc `<<<` without running PHP");
        }
        let c: String = rest.chars().take(1).collect();
        self.error_here(format!("unexpected `{c}` where {expected} was expected"))
    }

    fn value(&mut self, depth: usize) -> Result<PhpValue, PhpError> {
        self.skip_trivia()?;
        if depth > MAX_DEPTH {
            return Err(self.error_here(format!("arrays nested deeper than {MAX_DEPTH}")));
        }
        let value = match self.peek() {
            Some('[') => {
                self.pos += 1;
                PhpValue::Array(self.array(']', depth)?)
            }
            Some('\'') | Some('"') => PhpValue::Str(self.string()?),
            Some('-') | Some('+') => {
                let negative = self.bump() == Some('-');
                self.skip_trivia()?;
                if !self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    return Err(self.unexpected("a number after the sign"));
                }
                match self.number()? {
                    PhpValue::Int(n) if negative => PhpValue::Int(-n),
                    PhpValue::Float(f) if negative => PhpValue::Float(-f),
                    other => other,
                }
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                if c == '.'
                    && !self
                        .rest()
                        .get(1..)
                        .is_some_and(|r| r.starts_with(|d: char| d.is_ascii_digit()))
                {
                    return Err(self.unexpected("a value"));
                }
                self.number()?
            }
            Some('$') => self.variable()?,
            _ => match self.peek_word() {
                Some(w) if w.eq_ignore_ascii_case("true") => self.word(w, PhpValue::Bool(true)),
                Some(w) if w.eq_ignore_ascii_case("false") => self.word(w, PhpValue::Bool(false)),
                Some(w) if w.eq_ignore_ascii_case("null") => self.word(w, PhpValue::Null),
                Some(w)
                    if w.eq_ignore_ascii_case("array")
                        && self.rest().get(w.len()..).is_some_and(|r| {
                            r.trim_start_matches(char::is_whitespace).starts_with('(')
                        }) =>
                {
                    self.pos += w.len();
                    self.expect_char('(', "`(`")?;
                    PhpValue::Array(self.array(')', depth)?)
                }
                _ => return Err(self.unexpected("a value")),
            },
        };
        // A value followed by an operator would need PHP to compute it.
        self.skip_trivia()?;
        let rest = self.rest();
        if let Some(op) = [
            "??", "?", ".", "+", "-", "*", "/", "%", "|", "&", "^", "<", ">", "=", "(", "[",
        ]
        .iter()
        .find(|op| rest.starts_with(**op) && !rest.starts_with("?>") && !rest.starts_with("=>"))
        {
            let what = if *op == "." {
                "the concatenation `.`"
            } else {
                "the expression"
            };
            return Err(self.error_here(format!("cannot read {what} (`{op}`) without running PHP")));
        }
        Ok(value)
    }

    fn word(&mut self, w: &str, value: PhpValue) -> PhpValue {
        self.pos += w.len();
        value
    }

    /// `$vendorDir . '/path'` (Composer mode only).
    fn variable(&mut self) -> Result<PhpValue, PhpError> {
        let name: String = self
            .rest()
            .get(1..)
            .unwrap_or("")
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let Some((_, base)) = self.vars.iter().find(|(n, _)| *n == name) else {
            return Err(self.unexpected("a value"));
        };
        let start = self.pos;
        self.pos += 1 + name.len();
        self.skip_trivia()?;
        if self.peek() != Some('.') {
            return Err(self.error_at(
                start,
                format!("cannot read `${name}` alone: expected `${name} . '/path'`"),
            ));
        }
        self.pos += 1;
        self.skip_trivia()?;
        if !matches!(self.peek(), Some('\'') | Some('"')) {
            return Err(self.unexpected("a string after `.`"));
        }
        let suffix = self.string()?;
        Ok(PhpValue::Str(format!("{base}{suffix}")))
    }

    /// The entries up to `close`; the opening bracket is consumed.
    fn array(&mut self, close: char, depth: usize) -> Result<PhpArray, PhpError> {
        let mut array = PhpArray::new();
        loop {
            self.skip_trivia()?;
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(array);
            }
            let entry_start = self.pos;
            let first = self.value(depth + 1)?;
            self.skip_trivia()?;
            if self.rest().starts_with("=>") {
                self.pos += 2;
                let key = match first {
                    PhpValue::Int(n) => PhpKey::Int(n),
                    PhpValue::Str(s) => PhpKey::from_str_key(&s),
                    PhpValue::Bool(b) => PhpKey::Int(i64::from(b)),
                    PhpValue::Null => PhpKey::Str(String::new()),
                    PhpValue::Float(_) | PhpValue::Array(_) => {
                        return Err(self
                            .error_at(entry_start, "unsupported array key (a float or an array)"));
                    }
                };
                let value = self.value(depth + 1)?;
                array.insert(key, value);
            } else if array.push(first).is_none() {
                return Err(self.error_at(
                    entry_start,
                    "cannot add an element: the next int key is already taken",
                ));
            }
            self.skip_trivia()?;
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(c) if c == close => {}
                _ => {
                    return Err(self.unexpected(&format!("`,` or `{close}`")));
                }
            }
        }
    }

    fn number(&mut self) -> Result<PhpValue, PhpError> {
        let start = self.pos;
        let rest = self.rest();
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
            .unwrap_or(rest.len());
        // An exponent sign: `1e-3`.
        let mut len = len;
        if let Some(tail) = rest.get(len..)
            && (tail.starts_with('-') || tail.starts_with('+'))
            && rest.get(..len).is_some_and(|l| {
                (l.ends_with('e') || l.ends_with('E'))
                    && !l.starts_with("0x")
                    && !l.starts_with("0X")
            })
        {
            let more = tail
                .get(1..)
                .unwrap_or("")
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(tail.len() - 1);
            len += 1 + more;
        }
        let literal = rest.get(..len).unwrap_or("");
        self.pos += len;
        let is_int = literal.bytes().all(|b| b.is_ascii_digit());
        if is_int {
            if literal.len() > 1 && literal.starts_with('0') {
                return Err(self.error_at(
                    start,
                    format!("the octal number `{literal}` is not supported"),
                ));
            }
            return Ok(match literal.parse::<i64>() {
                Ok(n) => PhpValue::Int(n),
                // PHP reads an integer literal too large for an int as a float.
                Err(_) => PhpValue::Float(literal.parse::<f64>().unwrap_or(f64::INFINITY)),
            });
        }
        let float_shape = {
            let (mantissa, exponent) = match literal.split_once(['e', 'E']) {
                Some((m, e)) => (m, Some(e)),
                None => (literal, None),
            };
            let mantissa_ok = mantissa.bytes().filter(|b| *b == b'.').count() <= 1
                && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && mantissa.bytes().any(|b| b.is_ascii_digit());
            let exponent_ok = exponent.is_none_or(|e| {
                let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
            });
            mantissa_ok && exponent_ok
        };
        match literal.parse::<f64>() {
            Ok(f) if float_shape => Ok(PhpValue::Float(f)),
            _ => Err(self.error_at(
                start,
                format!("the number `{literal}` is not supported (only decimal ints and floats)"),
            )),
        }
    }

    fn string(&mut self) -> Result<String, PhpError> {
        let start = self.pos;
        let quote = self.bump();
        let mut out = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => return Err(self.error_at(start, "unterminated string")),
                Some(c) if Some(c) == quote => return Ok(out),
                Some('\\') if quote == Some('\'') => match self.peek() {
                    Some(c @ ('\'' | '\\')) => {
                        self.pos += 1;
                        out.push(c);
                    }
                    _ => out.push('\\'),
                },
                Some('\\') => {
                    let escaped = match self.peek() {
                        Some('n') => Some('\n'),
                        Some('t') => Some('\t'),
                        Some('r') => Some('\r'),
                        Some('v') => Some('\u{0b}'),
                        Some('e') => Some('\u{1b}'),
                        Some('f') => Some('\u{0c}'),
                        Some('\\') => Some('\\'),
                        Some('"') => Some('"'),
                        Some('$') => Some('$'),
                        Some(c @ ('0'..='7' | 'x' | 'u')) => {
                            return Err(self.error_at(
                                at,
                                format!("the escape `\\{c}` is not supported: write the character itself"),
                            ));
                        }
                        _ => None,
                    };
                    match escaped {
                        Some(c) => {
                            self.pos += 1;
                            out.push(c);
                        }
                        None => out.push('\\'),
                    }
                }
                Some('$') if quote == Some('"') => {
                    if self
                        .peek()
                        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '{' || !c.is_ascii())
                    {
                        return Err(self.error_at(
                            at,
                            "cannot read the interpolation `$` in a double-quoted string without running PHP",
                        ));
                    }
                    out.push('$');
                }
                Some('{') if quote == Some('"') && self.peek() == Some('$') => {
                    return Err(self.error_at(
                        at,
                        "cannot read the interpolation `{$` in a double-quoted string without running PHP",
                    ));
                }
                Some(c) => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(entries: &[(PhpKey, PhpValue)]) -> PhpValue {
        let mut a = PhpArray::new();
        for (k, v) in entries {
            a.insert(k.clone(), v.clone());
        }
        PhpValue::Array(a)
    }

    fn s(v: &str) -> PhpValue {
        PhpValue::Str(v.to_string())
    }

    fn ks(k: &str) -> PhpKey {
        PhpKey::Str(k.to_string())
    }

    fn err(text: &str) -> PhpError {
        parse_return(text).expect_err(text)
    }

    #[test]
    fn reads_what_magento_writes() {
        let text = "<?php\nreturn [\n    'modules' => [\n        'Magento_Store' => 1,\n        'Acme_Off' => 0\n    ],\n    /** a doc comment */\n    'x' => [\n        'f' => 1.5,\n        'n' => null,\n        't' => TRUE,\n        'neg' => -3,\n        'q' => 'it\\'s a \\\\ back\\slash'\n    ]\n];\n";
        let v = parse_return(text).unwrap();
        assert_eq!(
            v.get_path(&["modules", "Magento_Store"]),
            Some(&PhpValue::Int(1))
        );
        assert_eq!(
            v.get_path(&["modules", "Acme_Off"]),
            Some(&PhpValue::Int(0))
        );
        assert_eq!(v.get_path(&["x", "f"]), Some(&PhpValue::Float(1.5)));
        assert_eq!(v.get_path(&["x", "n"]), Some(&PhpValue::Null));
        assert_eq!(v.get_path(&["x", "t"]), Some(&PhpValue::Bool(true)));
        assert_eq!(v.get_path(&["x", "neg"]), Some(&PhpValue::Int(-3)));
        assert_eq!(
            v.get_path(&["x", "q"]).and_then(PhpValue::as_str),
            Some("it's a \\ back\\slash")
        );
        let keys: Vec<String> = v.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys, ["modules", "x"]);
    }

    #[test]
    fn reads_hand_edited_forms() {
        let text = "<?php // header\n# another\nreturn array(\n  \"a\" => \"tab\\there \\$x \\q \\\"\", // c\n  'b' => array(1, 2,),\n  'c' => [ ], /* multi\nline */\n) ?>\n";
        let v = parse_return(text).unwrap();
        assert_eq!(v.get("a"), Some(&s("tab\there $x \\q \"")));
        assert_eq!(
            v.get("b"),
            Some(&arr(&[
                (PhpKey::Int(0), PhpValue::Int(1)),
                (PhpKey::Int(1), PhpValue::Int(2))
            ]))
        );
        assert_eq!(v.get("c"), Some(&arr(&[])));
    }

    #[test]
    fn keys_follow_php() {
        // Repeated key: first position, last value; '5' is the int 5; then 6 is next.
        let v = parse_return("<?php return ['a' => 1, 'b' => 2, 'a' => 3, '5' => 'five', 'six', '05' => 'x', '-0' => 'y', true => 't'];").unwrap();
        let entries: Vec<(PhpKey, PhpValue)> =
            v.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(
            entries,
            vec![
                (ks("a"), PhpValue::Int(3)),
                (ks("b"), PhpValue::Int(2)),
                (PhpKey::Int(5), s("five")),
                (PhpKey::Int(6), s("six")),
                (ks("05"), s("x")),
                (ks("-0"), s("y")),
                (PhpKey::Int(1), s("t")),
            ]
        );
        assert_eq!(v.get("5"), Some(&s("five")));
        // Negative keys (PHP 8.3): the next key follows the largest.
        let v = parse_return("<?php return [-5 => 'a', 'b'];").unwrap();
        let keys: Vec<PhpKey> = v.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, [PhpKey::Int(-5), PhpKey::Int(-4)]);
        assert!(
            parse_return("<?php return [9223372036854775807 => 1, 2];").is_err(),
            "the next key would overflow"
        );
    }

    #[test]
    fn numbers() {
        let v = parse_return("<?php return [0, -7, 1e3, .5, 2., 1.5E-2, 9223372036854775808];")
            .unwrap();
        let values: Vec<PhpValue> = v.iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(
            values,
            [
                PhpValue::Int(0),
                PhpValue::Int(-7),
                PhpValue::Float(1000.0),
                PhpValue::Float(0.5),
                PhpValue::Float(2.0),
                PhpValue::Float(0.015),
                PhpValue::Float(9223372036854775808.0),
            ]
        );
        assert!(err("<?php return [0755];").message.contains("octal"));
        assert!(
            err("<?php return [0x1F];")
                .message
                .contains("not supported")
        );
        assert!(
            err("<?php return [1_000];")
                .message
                .contains("not supported")
        );
    }

    #[test]
    fn refuses_what_needs_php() {
        let e = err("<?php\nreturn [\n  'host' => getenv('HOST'),\n];");
        assert_eq!((e.line, e.column), (3, 13));
        assert_eq!(e.message, "cannot read `getenv(` without running PHP");
        assert_eq!(
            err("<?php return [BP];").message,
            "cannot read `BP` without running PHP"
        );
        assert_eq!(
            err("<?php return [__DIR__ . '/x'];").message,
            "cannot read `__DIR__` without running PHP"
        );
        assert!(
            err("<?php return ['a' . 'b'];")
                .message
                .contains("concatenation")
        );
        assert!(err("<?php return [$x];").message.contains("`$x`"));
        assert!(
            err("<?php return [\"a $x\"];")
                .message
                .contains("interpolation")
        );
        assert!(
            err("<?php return [\"a {$x}\"];")
                .message
                .contains("interpolation")
        );
        assert!(err("<?php return [1 + 2];").message.contains("expression"));
        assert!(
            err("<?php return [<<<EOT\nx\nEOT];")
                .message
                .contains("heredoc")
        );
        assert!(
            err("<?php $a = 1; return [];")
                .message
                .contains("expected `return`")
        );
        assert!(
            err("<?php return [];\necho 1;")
                .message
                .contains("after the `return`")
        );
        assert!(err("return [];").message.contains("<?php"));
        assert!(err("<?php return [1, 2").message.contains("ends"));
        assert!(err("<?php return ['a\n").message.contains("unterminated"));
        assert!(err("<?php return [\"\\x41\"];").message.contains("escape"));
        assert!(err("<?php return [1.5 => 'a'];").message.contains("key"));
        // A `$` not starting a variable is kept.
        assert_eq!(parse_return("<?php return \"5$ \";").unwrap(), s("5$ "));
    }

    #[test]
    fn string_literals() {
        assert_eq!(
            string_literal("'Acme_A', x"),
            Some(("Acme_A".to_string(), 8))
        );
        assert_eq!(string_literal("\"a\\tb\")"), Some(("a\tb".to_string(), 6)));
        assert_eq!(string_literal("\"$x\""), None);
        assert_eq!(string_literal("x"), None);
    }

    #[test]
    fn composer_autoload_files() {
        let text = "<?php\n\n// autoload_files.php @generated by Composer\n\n$vendorDir = dirname(__DIR__);\n$baseDir = dirname($vendorDir);\n\nreturn array(\n    '0e6d7bf4a5811bfa5cf40c5ccd6fae6a' => $vendorDir . '/acme/a/registration.php',\n    'a4a119a56e50fbb293281d9a48007e0e' => $baseDir . '/app/x.php',\n);\n";
        let v = parse_composer_return(text, "/r/vendor", "/r").unwrap();
        let values: Vec<&str> = v.iter().filter_map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            values,
            ["/r/vendor/acme/a/registration.php", "/r/app/x.php"]
        );
        assert!(parse_composer_return("<?php return [$other . 'x'];", "v", "b").is_err());
        assert!(parse_composer_return("<?php return [$vendorDir];", "v", "b").is_err());
        // The plain reader refuses the variables.
        assert!(parse_return("<?php return [$vendorDir . '/x'];").is_err());
    }

    #[test]
    fn replace_recursive_like_php() {
        let base =
            parse_return("<?php return ['a' => ['x' => 1, 'y' => 2], 'b' => [1, 2], 'c' => 1];")
                .unwrap();
        let over =
            parse_return("<?php return ['a' => ['y' => 3, 'z' => 4], 'b' => 'flat', 'd' => [5]];")
                .unwrap();
        let merged = replace_recursive(base.as_array().unwrap(), over.as_array().unwrap());
        let expected = parse_return(
            "<?php return ['a' => ['x' => 1, 'y' => 3, 'z' => 4], 'b' => 'flat', 'c' => 1, 'd' => [5]];",
        )
        .unwrap();
        assert_eq!(PhpValue::Array(merged), expected);
    }
}
