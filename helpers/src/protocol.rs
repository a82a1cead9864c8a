//! Squid's helper protocol (`docs/design.md#helper-protocol`): request lines in,
//! reply lines out. No I/O.
//!
//! Request: `[channel-ID SP] URL [SP extras…]`. The channel ID is present exactly when the
//! helper runs with `concurrency=N ≥ 1`; it is an opaque decimal token echoed back as
//! received. A URL is never all digits, so the first token tells which form a line has.
//!
//! Reply: `[channel-ID SP] OK|ERR|BH [kv-pairs]`. Values are always quoted (Squid
//! %-decodes unquoted values of 3+ characters) with `"` and `\` escaped; never a legacy
//! bare-URL reply.

/// Longest request line read (Squid's own limit is `MAX_URL + 1024` = 9216 bytes, extras
/// included). Longer lines are answered `ERR` and skipped.
pub const MAX_HELPER_LINE: usize = 16 * 1024;

/// A request line, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The channel ID, if the line has one.
    pub channel: Option<&'a str>,
    /// The URL (may be empty for an empty line).
    pub url: &'a str,
    /// Whatever follows the URL (`url_rewrite_extras` / `store_id_extras`), unparsed.
    pub extras: &'a str,
}

/// Why a line cannot be handled; answered per line, the helper keeps going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineError {
    /// Longer than [`MAX_HELPER_LINE`].
    TooLong,
    /// Not UTF-8.
    NotUtf8,
    /// Contains a NUL or another control character.
    Control,
    /// Empty (after the channel ID).
    Empty,
}

impl LineError {
    /// The `BH message` text.
    pub fn message(self) -> &'static str {
        match self {
            LineError::TooLong => "request line too long",
            LineError::NotUtf8 => "request line is not UTF-8",
            LineError::Control => "request line has a control character",
            LineError::Empty => "empty request line",
        }
    }
}

fn is_channel(tok: &[u8]) -> bool {
    !tok.is_empty() && tok.len() <= 20 && tok.iter().all(u8::is_ascii_digit)
}

/// The channel ID of a raw line (possibly truncated or invalid), so even a bad line gets a
/// reply Squid can match.
pub fn channel_of(line: &[u8]) -> Option<&str> {
    let (n, _) = url_start(line);
    std::str::from_utf8(&line[..n?]).ok()
}

/// Where a line's fields are, by byte offsets (every split is at an ASCII space, so the
/// offsets are char boundaries of a UTF-8 line too).
struct Fields {
    /// The channel ID is `line[..n]`, if the line has one.
    channel: Option<usize>,
    /// The URL is `line[url.0..url.1]` (empty for an empty line).
    url: (usize, usize),
}

impl Fields {
    /// `[channel-ID SP] URL [SP extras…]`, spaces before the URL skipped.
    fn of(line: &[u8]) -> Fields {
        let (channel, start) = url_start(line);
        let end = start + memchr::memchr(b' ', &line[start..]).unwrap_or(line.len() - start);
        Fields {
            channel,
            url: (start, end),
        }
    }
}

/// The length of the line's channel ID, if it has one, and where its URL starts (spaces
/// before it skipped). The first token is a channel ID exactly when it is all digits (a URL
/// never is): the leading digits are counted, so that a line without a channel ID is not
/// searched to its first space (past the whole URL).
fn url_start(line: &[u8]) -> (Option<usize>, usize) {
    let first = line
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(line.len());
    let (channel, after) =
        if line.get(first).is_none_or(|&b| b == b' ') && is_channel(&line[..first]) {
            (Some(first), (first + 1).min(line.len()))
        } else {
            (None, 0)
        };
    let start = after
        + line[after..]
            .iter()
            .position(|&b| b != b' ')
            .unwrap_or(line.len() - after);
    (channel, start)
}

/// Splits one line (without its `\n`; a trailing `\r` is removed).
pub fn parse_line(line: &[u8]) -> Result<Request<'_>, LineError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > MAX_HELPER_LINE {
        return Err(LineError::TooLong);
    }
    // One pass over the bytes that the compiler can vectorise (no early exit).
    let control = line.iter().fold(false, |acc, &b| {
        acc | ((b < 0x20) & (b != b'\t')) | (b == 0x7f)
    });
    let line = std::str::from_utf8(line).map_err(|_| LineError::NotUtf8)?;
    if control {
        return Err(LineError::Control);
    }
    let f = Fields::of(line.as_bytes());
    let (start, end) = f.url;
    if start == end {
        return Err(LineError::Empty);
    }
    Ok(Request {
        channel: f.channel.map(|n| &line[..n]),
        url: &line[start..end],
        extras: line.get(end + 1..).unwrap_or_default(),
    })
}

/// A reply, before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `OK store-id="…"`
    StoreId(String),
    /// `OK rewrite-url="…"`
    RewriteUrl(String),
    /// `OK status=30N url="…"` (a redirect the client sees)
    Redirect(u16, String),
    /// `ERR`: no change.
    Err,
    /// `ERR message="…"`: no change, for a line the helper cannot read (its bytes come from
    /// the client's URL: not the helper's failure, so never `BH`, which Squid counts
    /// against the helper).
    Unreadable(&'static str),
    /// `BH message="…"`: the helper itself cannot answer (a broken configuration).
    Bh(String),
}

/// Appends `value` quoted, with `"` and `\` escaped and line breaks removed.
fn push_quoted(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    let bytes = value.as_bytes();
    let mut start = 0;
    loop {
        let rest = &bytes[start..];
        let at = match (
            memchr::memchr3(b'"', b'\\', b'\n', rest),
            memchr::memchr(b'\r', rest),
        ) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => break,
        };
        let i = start + at;
        out.extend_from_slice(&bytes[start..i]);
        match bytes[i] {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', bytes[i]]),
            _ => out.push(b' '),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The channel ID of a line and where its URL starts, exactly as [`parse_line`] splits
/// them (but without looking at any other byte): for a fast path that reads the URL itself,
/// up to its first space, and must then check that the line has nothing [`parse_line`]
/// would judge differently.
pub fn split_channel(line: &[u8]) -> (Option<&[u8]>, usize) {
    let (channel, start) = url_start(line);
    (channel.map(|n| &line[..n]), start)
}

/// Encodes `[channel ]OK store-id="…"\n` with a value `write_value` appends, which must
/// need no escaping (no `"`, `\`, CR or LF: the store-id fast path's IDs). If it returns
/// false, nothing is appended.
pub fn encode_store_id_with(
    out: &mut Vec<u8>,
    channel: Option<&[u8]>,
    write_value: impl FnOnce(&mut Vec<u8>) -> bool,
) -> bool {
    // The same bytes as `encode` of `Reply::StoreId` (pinned by a test).
    let start = out.len();
    push_channel(out, channel);
    out.extend_from_slice(b"OK store-id=\"");
    let value = out.len();
    if !write_value(out) {
        out.truncate(start);
        return false;
    }
    debug_assert!(!out[value..]
        .iter()
        .any(|b| matches!(b, b'"' | b'\\' | b'\r' | b'\n')));
    out.extend_from_slice(b"\"\n");
    true
}

fn push_channel(out: &mut Vec<u8>, channel: Option<&[u8]>) {
    if let Some(c) = channel {
        out.extend_from_slice(c);
        out.push(b' ');
    }
}

/// Encodes a reply line, `\n` included.
pub fn encode(out: &mut Vec<u8>, channel: Option<&str>, reply: &Reply) {
    push_channel(out, channel.map(str::as_bytes));
    match reply {
        Reply::StoreId(id) => {
            out.extend_from_slice(b"OK store-id=");
            push_quoted(out, id);
        }
        Reply::RewriteUrl(u) => {
            out.extend_from_slice(b"OK rewrite-url=");
            push_quoted(out, u);
        }
        Reply::Redirect(status, u) => {
            out.extend_from_slice(format!("OK status={status} url=").as_bytes());
            push_quoted(out, u);
        }
        Reply::Err => out.extend_from_slice(b"ERR"),
        Reply::Unreadable(m) => {
            out.extend_from_slice(b"ERR message=");
            push_quoted(out, m);
        }
        Reply::Bh(m) => {
            out.extend_from_slice(b"BH message=");
            push_quoted(out, m);
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests;
