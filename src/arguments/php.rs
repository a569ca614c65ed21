//! Argument values as Magento sends them: every argument of an exchange, a binding or a
//! queue whose value is numeric in PHP's sense is sent as PHP's `(int)` of it, whatever its
//! name and `xsi:type` (Magento's `Amqp/Topology/ArgumentProcessor::processArguments`, after
//! `Data/Argument/Interpreter/Number`, which keeps the text). `"25"` → 25, `"1.5"` → 1,
//! `"1e3"` → 1000, `" 7"` → 7. The items of an array are sent as they are.
//!
//! Takes a value's text; gives the integer Magento sends, or why it cannot.

/// What PHP's `(int)` makes of a string that `is_numeric` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhpInt {
    /// Not numeric in PHP's sense: sent as the string it is.
    NotNumeric,
    /// The integer sent, and whether it equals the written number (false for `1.5`).
    Int { value: i64, exact: bool },
    /// Numeric, but beyond a 64-bit integer: PHP's result is undefined.
    OutOfRange,
}

const PHP_SPACE: &[char] = &[' ', '\t', '\n', '\r', '\u{0b}', '\u{0c}'];

/// PHP 8's `is_numeric`: optional surrounding whitespace, an optional sign, digits with an
/// optional decimal point (`1.`, `.5`), an optional exponent. No hex, no `_`, no `inf`.
pub fn is_php_numeric(s: &str) -> bool {
    let t = s.trim_matches(PHP_SPACE);
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (mantissa, None),
    };
    let digits = |d: &str| d.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = digits(int)
        && frac.is_none_or(digits)
        && !(int.is_empty() && frac.unwrap_or("").is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// PHP's `(int)` of `s`, when `is_numeric(s)`.
pub fn php_int(s: &str) -> PhpInt {
    if !is_php_numeric(s) {
        return PhpInt::NotNumeric;
    }
    let t = s.trim_matches(PHP_SPACE);
    if let Ok(i) = t.parse::<i64>() {
        return PhpInt::Int {
            value: i,
            exact: true,
        };
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() && f.trunc() >= i64::MIN as f64 && f.trunc() < i64::MAX as f64 => {
            PhpInt::Int {
                value: f.trunc() as i64,
                exact: f.fract() == 0.0,
            }
        }
        _ => PhpInt::OutOfRange,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of Magento's rule (ArgumentProcessor casts with `(int)` every value
    /// `is_numeric` accepts), with PHP 8's answers.
    #[test]
    fn numeric_strings_become_php_ints() {
        let int = |value, exact| PhpInt::Int { value, exact };
        assert_eq!(php_int("25"), int(25, true));
        assert_eq!(php_int("1.5"), int(1, false));
        assert_eq!(php_int("-1.5"), int(-1, false));
        assert_eq!(php_int("1e3"), int(1000, true));
        assert_eq!(php_int(" 7"), int(7, true));
        assert_eq!(php_int("7 "), int(7, true));
        assert_eq!(php_int("+3"), int(3, true));
        assert_eq!(php_int(".5"), int(0, false));
        assert_eq!(php_int("5."), int(5, true));
        assert_eq!(php_int("1e30"), PhpInt::OutOfRange);
        for not in [
            "",
            " ",
            ".",
            "e3",
            "1e",
            "0x1A",
            "1_000",
            "abc",
            "arg-value",
            "1 2",
            "inf",
        ] {
            assert_eq!(php_int(not), PhpInt::NotNumeric, "{not:?}");
        }
    }
}
