//! Words for numbers in messages: `1 message`, `1,204 messages`, never `message(s)`.

/// `n` with thousands separators: `12,040`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The plural of an English noun as these messages use them.
pub fn plural(word: &str) -> String {
    match word {
        "entity" => "entities".to_string(),
        w if w.ends_with("ch") || w.ends_with("sh") || w.ends_with('s') || w.ends_with('x') => {
            format!("{w}es")
        }
        w => format!("{w}s"),
    }
}

/// `1 message`, `0 messages`, `1,204 messages`.
pub fn count(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{} {}", thousands(n), plural(word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_english() {
        assert_eq!(count(0, "message"), "0 messages");
        assert_eq!(count(1, "message"), "1 message");
        assert_eq!(count(1204, "message"), "1,204 messages");
        assert_eq!(count(2, "entity"), "2 entities");
        assert_eq!(count(3, "exchange"), "3 exchanges");
        assert_eq!(count(2, "match"), "2 matches");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
    }
}
