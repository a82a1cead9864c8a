//! The store-ID fast path: one pass, no allocation, for the spelling Squid sends almost
//! every time — a route's own S3 URL (in its addressing style and scheme), presigned or not,
//! with a key in canonical or simply escaped form. Anything else (public URLs, other AWS
//! spellings, `+`, non-ASCII or suspicious keys, other query parameters, routes that share
//! a bucket) falls back to [`super::for_url`], and a property test checks that the two
//! always agree.

use crate::decide::has_dot_segment;
use crate::limits::MAX_KEY_BYTES;
use crate::route::RouteTable;
use crate::url::Scheme;

/// One route's own S3 spelling.
#[derive(Debug, Clone)]
struct Entry {
    scheme: Scheme,
    /// `bucket.host[:port]` (virtual) or `host[:port]` (path), lower-case.
    authority: String,
    /// `/` (virtual) or `/bucket/` (path).
    path_prefix: String,
    /// `http://s3.squid.internal/v1/<endpoint-id>/<bucket>/`.
    id_prefix: String,
    /// The route's `key_prefix`, S3-encoded.
    key_prefix: String,
}

/// The routes' own S3 spellings, looked up by authority.
#[derive(Debug, Clone, Default)]
pub struct FastIndex {
    entries: Vec<Entry>,
}

impl FastIndex {
    /// Indexes the routes whose bucket no other route shares and whose S3 authority is no
    /// public host (those go the general way).
    pub fn new(table: &RouteTable) -> FastIndex {
        let routes = table.routes();
        let mut entries = Vec::new();
        for r in routes {
            let shared = routes
                .iter()
                .filter(|o| o.endpoint.id == r.endpoint.id && o.bucket == r.bucket)
                .count()
                > 1;
            let authority = r.s3_authority();
            let public_clash = routes.iter().any(|o| o.public.authority() == authority);
            if shared || public_clash || !r.allow_query.is_empty() {
                continue;
            }
            let path_prefix = match r.addressing {
                crate::endpoint::Addressing::Virtual => "/".to_owned(),
                crate::endpoint::Addressing::Path => format!("/{}/", r.bucket),
            };
            entries.push(Entry {
                scheme: r.endpoint.scheme,
                authority,
                path_prefix,
                id_prefix: format!("{}{}/{}/", super::STORE_ID_PREFIX, r.endpoint.id, r.bucket),
                key_prefix: crate::pct::encode_path(&r.key_prefix),
            });
        }
        FastIndex { entries }
    }

    /// Appends the store ID of `url` to `out` and returns true, or leaves `out` as it was
    /// and returns false (take the general path).
    pub fn write_id(&self, url: &str, out: &mut String) -> bool {
        let start = out.len();
        let ok = self.try_write(url, out).is_some();
        if !ok {
            out.truncate(start);
        }
        ok
    }

    fn try_write(&self, url: &str, out: &mut String) -> Option<()> {
        let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
            (Scheme::Https, r)
        } else {
            (Scheme::Http, url.strip_prefix("http://")?)
        };
        let slash = memchr::memchr(b'/', rest.as_bytes())?;
        let (authority, tail) = rest.split_at(slash);
        let e = self.entries.iter().find(|e| {
            e.scheme == scheme
                && e.authority == authority
                && tail.starts_with(e.path_prefix.as_str())
        })?;
        if memchr::memchr(b'#', tail.as_bytes()).is_some() {
            return None;
        }
        let (path, query) = match memchr::memchr(b'?', tail.as_bytes()) {
            Some(q) => (&tail[..q], &tail[q + 1..]),
            None => (tail, ""),
        };
        let raw_key = path.strip_prefix(e.path_prefix.as_str())?;
        let mut from = 0;
        for end in memchr::memchr_iter(b'&', query.as_bytes()).chain(std::iter::once(query.len())) {
            let pair = &query[from..end];
            from = end + 1;
            if !pair.is_empty() && !super::SIGNATURE_PARAMS.contains(&crate::url::param_name(pair))
            {
                return None;
            }
        }
        out.push_str(&e.id_prefix);
        let key_start = out.len();
        let decoded = canonical_key(raw_key.as_bytes(), out)?;
        let key = &out[key_start..];
        if decoded == 0
            || decoded > MAX_KEY_BYTES
            || !key.starts_with(&e.key_prefix)
            || has_dot_segment(key)
        {
            return None;
        }
        Some(())
    }
}

/// Appends the S3-canonical form of a raw S3-path key; returns its decoded length, or None
/// for anything the general path must judge (`+`, other raw bytes, bad or non-ASCII or
/// control escapes).
fn canonical_key(raw: &[u8], out: &mut String) -> Option<usize> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let keep = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/');
    let hex = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let mut decoded = 0;
    let mut i = 0;
    while i < raw.len() {
        let run = raw[i..]
            .iter()
            .position(|&b| !keep(b))
            .unwrap_or(raw.len() - i);
        out.push_str(std::str::from_utf8(&raw[i..i + run]).ok()?);
        decoded += run;
        i += run;
        if i == raw.len() {
            break;
        }
        if raw[i] != b'%' {
            return None;
        }
        let d = hex(*raw.get(i + 1)?)? << 4 | hex(*raw.get(i + 2)?)?;
        if !(0x20..0x7f).contains(&d) {
            return None;
        }
        if keep(d) {
            out.push(char::from(d));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(d >> 4)]));
            out.push(char::from(HEX[usize::from(d & 15)]));
        }
        decoded += 1;
        i += 3;
    }
    Some(decoded)
}
