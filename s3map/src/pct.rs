//! Percent-encoding as S3 and Squid need it.
//!
//! Decoding is done exactly once; encoding follows S3's canonical form: every byte outside
//! `A-Za-z0-9-._~` (and `/` in paths) becomes `%XX` with upper-case hex. A raw `+` must be
//! encoded (`%2B`) because S3 reads a `+` in a path as a space.
//!
//! Both run for every request Squid sends (store IDs are computed for cache hits too), so
//! they work on runs of bytes with lookup tables rather than one character at a time.

/// Why a percent-encoded string could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// A `%` not followed by two hex digits.
    BadEscape,
}

/// Hex digit values, 0xff for non-digits: one table load per digit.
const HEX_VALUE: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => 0xff,
        };
        b += 1;
    }
    t
};

/// The value of a hex digit.
pub fn hex_val(b: u8) -> Option<u8> {
    let v = HEX_VALUE[usize::from(b)];
    (v != 0xff).then_some(v)
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
    loop {
        let rest = &bytes[i..];
        let next = match plus {
            Plus::Literal => memchr::memchr(b'%', rest),
            Plus::Space => memchr::memchr2(b'%', b'+', rest),
        };
        let Some(at) = next else {
            out.extend_from_slice(rest);
            return Ok(out);
        };
        out.extend_from_slice(&rest[..at]);
        i += at;
        if bytes[i] == b'+' {
            out.push(b' ');
            i += 1;
            continue;
        }
        let hi = bytes.get(i + 1).copied().and_then(hex_val);
        let lo = bytes.get(i + 2).copied().and_then(hex_val);
        match (hi, lo) {
            (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
            _ => return Err(DecodeError::BadEscape),
        }
        i += 3;
    }
}

/// Bytes kept as they are: `A-Za-z0-9-._~`, and `/` in the second table.
const fn keep_table(slash: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || c == b'-'
            || c == b'.'
            || c == b'_'
            || c == b'~'
            || (slash && c == b'/');
        b += 1;
    }
    t
}
const KEEP: [bool; 256] = keep_table(false);
/// Bytes a key keeps unescaped, indexed by byte: `A-Za-z0-9-._~/` (S3's canonical URI
/// encoding escapes every other byte).
pub const KEEP_IN_KEY: [bool; 256] = keep_table(true);
/// Upper-case hex digits, as S3's canonical encoding writes escapes.
pub const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `input` to `out`, encoding every byte outside `A-Za-z0-9-._~` (and `/` when
/// `keep_slash`), with upper-case hex: S3's canonical URI encoding.
pub fn encode_into(out: &mut String, input: &[u8], keep_slash: bool) {
    let keep = if keep_slash { &KEEP_IN_KEY } else { &KEEP };
    let mut start = 0;
    for (i, &b) in input.iter().enumerate() {
        if keep[usize::from(b)] {
            continue;
        }
        // Only ASCII bytes are ever kept, so each run is valid UTF-8.
        if let Ok(run) = std::str::from_utf8(&input[start..i]) {
            out.push_str(run);
        }
        out.push('%');
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 15)]));
        start = i + 1;
    }
    if let Ok(run) = std::str::from_utf8(&input[start..]) {
        out.push_str(run);
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
        assert_eq!(decode("", Plus::Space).unwrap(), b"");
        assert_eq!(decode("++%2B", Plus::Space).unwrap(), b"  +");
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
        assert_eq!(encode_path(""), "");
        let mut s = String::new();
        encode_into(&mut s, b"a/b=c", false);
        assert_eq!(s, "a%2Fb%3Dc");
    }

    #[test]
    fn encode_matches_a_byte_at_a_time_reference() {
        let all: Vec<u8> = (0..=255).collect();
        let mut reference = String::new();
        for &b in &all {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                reference.push(char::from(b));
            } else {
                reference.push_str(&format!("%{b:02X}"));
            }
        }
        let mut got = String::new();
        encode_into(&mut got, &all, true);
        assert_eq!(got, reference);
    }
}
