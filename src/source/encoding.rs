//! Which encoding a file is in, as libxml2 (Magento's XML parser) decides it without iconv,
//! and decoding to UTF-8.
//!
//! Takes: a file's bytes. Gives: its text, or where the bytes or the declared encoding
//! could not be read. libxml2 reads UTF-8, UTF-16 (byte order mark, or `<?` in UTF-16),
//! US-ASCII and ISO-8859-1 by itself; any other encoding needs iconv, whose set differs
//! between builds, so it is refused here, located at its name in the declaration.

use std::ops::Range;

use super::{EncodingError, Source, SourceKind};

/// Bytes in which the XML declaration must end.
const DECLARATION_BYTES: usize = 1024;

pub(super) enum Detected {
    Utf8,
    Latin1,
    Utf16 {
        big_endian: bool,
    },
    /// A declared encoding that is not read: why, and the byte range of its name.
    Refused {
        message: String,
        at: Range<usize>,
    },
}

pub(super) fn detect(bytes: &[u8]) -> Detected {
    match bytes {
        [0xff, 0xfe, ..] | [b'<', 0, b'?', 0, ..] => return Detected::Utf16 { big_endian: false },
        [0xfe, 0xff, ..] | [0, b'<', 0, b'?', ..] => return Detected::Utf16 { big_endian: true },
        // A UTF-8 byte order mark wins over the declaration, as in libxml2.
        [0xef, 0xbb, 0xbf, ..] => return Detected::Utf8,
        _ => {}
    }
    let Some((label, at)) = declared(bytes) else {
        return Detected::Utf8;
    };
    match label.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" | "us-ascii" | "ascii" => Detected::Utf8,
        "iso-8859-1" | "iso_8859-1" | "iso8859-1" | "latin1" | "latin-1" | "iso-latin-1" | "l1" => {
            Detected::Latin1
        }
        "utf-16" | "utf-16le" | "utf-16be" | "utf16" => Detected::Refused {
            message: format!(
                "the file declares the encoding `{label}` but is not UTF-16 (it has no byte order mark)"
            ),
            at,
        },
        _ => Detected::Refused {
            message: format!(
                "the file declares the encoding `{label}`, which this tool does not read (it reads UTF-8, US-ASCII, ISO-8859-1 and UTF-16)"
            ),
            at,
        },
    }
}

/// The `encoding` of an XML declaration at the start of `bytes`, and its byte range.
fn declared(bytes: &[u8]) -> Option<(String, Range<usize>)> {
    let head = &bytes[..bytes.len().min(DECLARATION_BYTES)];
    let rest = head.strip_prefix(b"<?xml")?;
    if !rest.first().is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = &head[..end];
    let key = decl.windows(8).position(|w| w == b"encoding")? + 8;
    let mut i = key;
    let skip_space = |mut i: usize| {
        while decl.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    i = skip_space(i);
    if decl.get(i) != Some(&b'=') {
        return None;
    }
    i = skip_space(i + 1);
    let quote = *decl.get(i).filter(|q| matches!(q, b'"' | b'\''))?;
    let start = i + 1;
    let len = decl.get(start..)?.iter().position(|b| *b == quote)?;
    let label = std::str::from_utf8(&decl[start..start + len]).ok()?;
    Some((label.to_string(), start..start + len))
}

/// UTF-8, invalid bytes replaced and the first one located.
pub(super) fn utf8(name: String, bytes: Vec<u8>, kind: SourceKind) -> Source {
    match String::from_utf8(bytes) {
        Ok(text) => Source::new(name, text, kind),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let mut s = Source::new(name, text, kind);
            s.encoding_error = Some(EncodingError {
                start: at,
                end: at + '\u{fffd}'.len_utf8(),
                message: "the file is not valid UTF-8".to_string(),
                label: "this byte is not UTF-8".to_string(),
            });
            s
        }
    }
}

/// UTF-16 of the given byte order (a byte order mark is kept, as U+FEFF); unpaired
/// surrogates and an odd last byte replaced, the first one located.
pub(super) fn utf16(name: String, bytes: &[u8], big_endian: bool, kind: SourceKind) -> Source {
    let units = bytes.chunks(2).map(|pair| match pair {
        [a, b] if big_endian => Ok(u16::from_be_bytes([*a, *b])),
        [a, b] => Ok(u16::from_le_bytes([*a, *b])),
        _ => Err(()),
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut first_bad = None;
    let mut good = Vec::new();
    let flush = |good: &mut Vec<u16>, text: &mut String, first_bad: &mut Option<usize>| {
        for c in char::decode_utf16(good.drain(..)) {
            match c {
                Ok(c) => text.push(c),
                Err(_) => {
                    first_bad.get_or_insert(text.len());
                    text.push('\u{fffd}');
                }
            }
        }
    };
    for unit in units {
        match unit {
            Ok(u) => good.push(u),
            Err(()) => {
                flush(&mut good, &mut text, &mut first_bad);
                first_bad.get_or_insert(text.len());
                text.push('\u{fffd}');
            }
        }
    }
    flush(&mut good, &mut text, &mut first_bad);
    let mut s = Source::new(name, text, kind);
    if let Some(at) = first_bad {
        s.encoding_error = Some(EncodingError {
            start: at,
            end: at + '\u{fffd}'.len_utf8(),
            message: "the file is not valid UTF-16".to_string(),
            label: "this is not UTF-16".to_string(),
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::from_bytes;
    use super::*;

    fn read(bytes: &[u8]) -> Source {
        from_bytes("f".into(), bytes.to_vec(), SourceKind::Topology)
    }

    #[test]
    fn latin1_is_decoded_as_libxml2_does() {
        let s =
            read(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<config name=\"caf\xe9\"/>");
        assert_eq!(s.encoding_error, None);
        assert!(
            s.text.ends_with("<config name=\"caf\u{e9}\"/>"),
            "{}",
            s.text
        );
    }

    #[test]
    fn utf16_with_a_bom_or_without_is_decoded() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><config a=\"\u{e9}\"/>";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(read(&le).text, text);
        assert_eq!(read(&be).text, text);
        let with_bom: Vec<u8> = [0xff, 0xfe].into_iter().chain(le.iter().copied()).collect();
        assert_eq!(read(&with_bom).text, format!("\u{feff}{text}"));
        let odd = read(&[0xff, 0xfe, b'<', 0, b'a']);
        assert_eq!(odd.encoding_error.map(|e| e.start), Some(4));
    }

    #[test]
    fn another_declared_encoding_is_refused_at_its_name() {
        let s = read(b"<?xml version='1.0' encoding = 'windows-1252' ?><config/>");
        let e = s.encoding_error.expect("refused");
        assert_eq!(&s.text[e.start..e.end], "windows-1252");
        assert!(e.message.contains("windows-1252"), "{}", e.message);
        let s = read(b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><config/>");
        assert!(s.encoding_error.is_some());
        assert_eq!(
            read(b"<?xml version=\"1.0\" encoding=\"utf-8\"?><config/>").encoding_error,
            None
        );
    }
}
