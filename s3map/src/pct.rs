//! Percent-encoding as S3 and Squid need it.
//!
//! Decoding is done exactly once; encoding follows S3's canonical form: every byte outside
//! `A-Za-z0-9-._~` (and `/` in paths) becomes `%XX` with upper-case hex. A raw `+` must be
//! encoded (`%2B`) because S3 reads a `+` in a path as a space.

use std::fmt::Write as _;

/// Why a percent-encoded string could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// A `%` not followed by two hex digits.
    BadEscape,
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// How a raw `+` is read while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plus {
    /// `+` is a plus (public URLs, RFC 3986).
    Literal,
    /// `+` is a space (S3's reading of its own REST paths).
    Space,
}

/// Decodes `%XX` escapes once. Returns raw bytes: the caller decides whether they must be
/// UTF-8 and free of control characters.
pub fn decode(input: &str, plus: Plus) -> Result<Vec<u8>, DecodeError> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_val);
                let lo = bytes.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(DecodeError::BadEscape),
                }
                i += 3;
            }
            b'+' if plus == Plus::Space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Appends `input` to `out`, encoding every byte outside `A-Za-z0-9-._~` (and `/` when
/// `keep_slash`), with upper-case hex: S3's canonical URI encoding.
pub fn encode_into(out: &mut String, input: &[u8], keep_slash: bool) {
    for &b in input {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Encodes an S3 key for a URL path (`/` kept).
pub fn encode_path(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + key.len() / 2);
    encode_into(&mut out, key.as_bytes(), true);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once() {
        assert_eq!(decode("a%2541", Plus::Literal).unwrap(), b"a%41");
        assert_eq!(decode("a+b%20c", Plus::Literal).unwrap(), b"a+b c");
        assert_eq!(decode("a+b", Plus::Space).unwrap(), b"a b");
        assert_eq!(decode("%e2%82%AC", Plus::Literal).unwrap(), "€".as_bytes());
    }

    #[test]
    fn bad_escapes() {
        for bad in ["%", "%4", "%G1", "a%zz", "%%41", "x%4"] {
            assert_eq!(
                decode(bad, Plus::Literal),
                Err(DecodeError::BadEscape),
                "{bad}"
            );
        }
    }

    #[test]
    fn encodes_like_s3() {
        assert_eq!(encode_path("a b/c+d~e"), "a%20b/c%2Bd~e");
        assert_eq!(encode_path("why?#%"), "why%3F%23%25");
        assert_eq!(encode_path("é"), "%C3%A9");
    }
}
