//! The store-ID fast path: one pass over the bytes (sixteen at a time, see [`super::scan`]),
//! no allocation, for the spelling Squid sends almost every time — a route's own S3 URL
//! (in its addressing style and scheme), presigned or not, with its key in the escaped
//! form SDKs write (UTF-8 escapes and `+` included). Anything else (public URLs, other AWS
//! spellings, upper-case hosts, raw reserved or non-ASCII bytes, bad escapes, other query
//! parameters, routes that share a bucket or a host) falls back to the core's general path,
//! [`s3map::storeid::for_url`], and property tests check that the two always agree.
//!
//! **Exists for one benchmark:** `bench/run`'s helper replay (`bench/replay.py`: 200,000
//! presigned request lines through s3squid-storeid against Squid's own store-ID helpers),
//! and the single layout's HIT throughput it drives (`bench/hit.py`); the numbers, the
//! profile behind each trick and what was tried and dropped are in `docs/PERFORMANCE.md`.
//! Everything here is reached through [`FastIndex`] alone; what a route's own spelling
//! is, and when only one route can claim it, is the core's ([`s3map::storeid::own_spellings`]).

use s3map::decide::has_dot_segment_bytes;
use s3map::limits::{MAX_INPUT_URL_BYTES, MAX_KEY_BYTES};
use s3map::pct::{hex_val, HEX_UPPER as HEX, KEEP_IN_KEY as KEEP};
use s3map::route::RouteTable;
use s3map::storeid::{for_url, own_spellings, SIGNATURE_PARAMS};
use wide::u8x16;

use super::scan;

/// One route's own S3 spelling.
#[derive(Debug, Clone)]
struct Entry {
    /// `scheme://bucket.host[:port]/` (virtual) or `scheme://host[:port]/bucket/` (path),
    /// lower-case: a URL takes this entry only if it starts with exactly these bytes.
    prefix: Vec<u8>,
    /// `http://s3.squid.internal/v1/<endpoint-id>/<bucket>/` (`id_len` bytes), then zeros
    /// to a whole block, for block copies.
    id_prefix: Vec<u8>,
    id_len: usize,
    /// The route's `key_prefix`, S3-encoded.
    key_prefix: Vec<u8>,
}

/// The routes' own S3 spellings, grouped by prefix length (sorted within a length).
#[derive(Debug, Clone)]
pub struct FastIndex {
    entries: Vec<Entry>,
    /// `by_len[n]`: where the entries with an `n`-byte prefix are (start, count).
    by_len: Vec<(usize, usize)>,
}

/// The bytes of a pair that pick its one candidate signature parameter: the first, the
/// `?` of `X-Amz-?`, and the one that tells `X-Amz-SignedHeaders`, `X-Amz-Signature` and
/// `X-Amz-Security-Token` apart.
const PARAM_PROBES: [usize; 3] = [0, 6, 10];

/// Bit i of `PARAMS_AT[k][b]`: `SIGNATURE_PARAMS[i]` has byte b at index `PARAM_PROBES[k]`
/// (every b when it is shorter).
const PARAMS_AT: [[u16; 128]; PARAM_PROBES.len()] = {
    let mut tables = [[0u16; 128]; PARAM_PROBES.len()];
    let mut i = 0;
    while i < SIGNATURE_PARAMS.len() {
        let p = SIGNATURE_PARAMS[i].as_bytes();
        let mut k = 0;
        while k < PARAM_PROBES.len() {
            if PARAM_PROBES[k] < p.len() {
                tables[k][p[PARAM_PROBES[k]] as usize] |= 1 << i;
            } else {
                // A shorter name: that byte of the pair is `=`, `&`, the value's, or missing.
                let mut b = 0;
                while b < 128 {
                    tables[k][b] |= 1 << i;
                    b += 1;
                }
            }
            k += 1;
        }
        i += 1;
    }
    tables
};

/// `SIGNATURE_PARAMS[i]`'s first block (zero-padded) and which of its lanes it fills.
const PARAM_HEADS: [([u8; scan::BLOCK], u32); SIGNATURE_PARAMS.len()] = {
    let mut heads = [([0u8; scan::BLOCK], 0u32); SIGNATURE_PARAMS.len()];
    let mut i = 0;
    while i < SIGNATURE_PARAMS.len() {
        let p = SIGNATURE_PARAMS[i].as_bytes();
        let mut j = 0;
        while j < p.len() && j < scan::BLOCK {
            heads[i].0[j] = p[j];
            heads[i].1 |= 1 << j;
            j += 1;
        }
        i += 1;
    }
    heads
};

/// Longest run of escaped non-ASCII bytes checked in place (36 CJK characters); a longer
/// run takes the general path.
const MAX_UTF8_RUN: usize = 108;

impl FastIndex {
    /// Indexes the routes whose own S3 spelling only they can claim
    /// ([`own_spellings`]); the others go the general way. Each entry is then checked
    /// against the general path.
    pub fn new(table: &RouteTable) -> FastIndex {
        let mut entries: Vec<Entry> = own_spellings(table)
            .into_iter()
            .map(|s| Entry {
                prefix: s.url_prefix.into_bytes(),
                id_len: s.id_prefix.len(),
                id_prefix: {
                    let mut padded = s.id_prefix.into_bytes();
                    padded.resize(padded.len().next_multiple_of(scan::BLOCK), 0);
                    padded
                },
                key_prefix: s.key_prefix.into_bytes(),
            })
            .collect();
        entries.sort_by(|a, b| by_len_then_bytes(&a.prefix, &b.prefix));
        entries.dedup_by(|a, b| a.prefix == b.prefix);
        let mut index = FastIndex {
            entries,
            by_len: Vec::new(),
        };
        index.index_lengths();
        index.keep_what_the_general_path_agrees_with(table);
        index
    }

    /// Drops every entry for which the general path answers one of a few probe URLs
    /// differently. The exclusions above cover the route tables we can think of; this
    /// covers the rest (hosts that match across schemes and default ports, buckets with dots
    /// that spell another route's host, endpoints the general path does not recognise…):
    /// which route a prefix belongs to does not depend on the key. Until no entry fails.
    fn keep_what_the_general_path_agrees_with(&mut self, table: &RouteTable) {
        const PROBES: [&str; 3] = [
            "k",
            "dir/a%20b+c.jpg?X-Amz-Date=1&X-Amz-Signature=00",
            "v1/aws/b/k",
        ];
        loop {
            let failing: Vec<Vec<u8>> = self
                .entries
                .iter()
                .filter(|e| {
                    PROBES.iter().any(|probe| {
                        let url = format!(
                            "{}{}{probe}",
                            String::from_utf8_lossy(&e.prefix),
                            String::from_utf8_lossy(&e.key_prefix)
                        );
                        let mut out = Vec::new();
                        let fast = self
                            .write_id(url.as_bytes(), &mut out)
                            .then(|| String::from_utf8_lossy(&out).into_owned());
                        fast.is_none() || fast != for_url(table, &url)
                    })
                })
                .map(|e| e.prefix.clone())
                .collect();
            if failing.is_empty() {
                return;
            }
            self.entries.retain(|e| !failing.contains(&e.prefix));
            self.index_lengths();
        }
    }

    /// Fills `by_len` from the (sorted) entries.
    fn index_lengths(&mut self) {
        let longest = self.entries.last().map_or(0, |e| e.prefix.len());
        self.by_len = vec![(0, 0); longest + 1];
        for (i, e) in self.entries.iter().enumerate() {
            let slot = &mut self.by_len[e.prefix.len()];
            if slot.1 == 0 {
                slot.0 = i;
            }
            slot.1 += 1;
        }
    }

    /// Appends the store ID of `url` to `out` and returns true, or leaves `out` as it was
    /// and returns false (take the general path). An ID written here never contains `"`,
    /// `\`, or a byte outside printable ASCII, so it needs no quoting in a helper reply.
    pub fn write_id(&self, url: &[u8], out: &mut Vec<u8>) -> bool {
        let start = out.len();
        let ok = self.try_write(url, out) == Some(url.len());
        if !ok {
            out.truncate(start);
        }
        ok
    }

    /// [`FastIndex::write_id`] for the URL that `text` starts with (up to its first space,
    /// the way a helper request line is split), found while reading it: returns the URL's
    /// length. Every byte of that URL is checked (printable ASCII, and more), so a caller
    /// that has split a line this way need not check it again.
    pub fn write_id_of_first_token(&self, text: &[u8], out: &mut Vec<u8>) -> Option<usize> {
        let start = out.len();
        let written = self.try_write(text, out);
        if written.is_none() {
            out.truncate(start);
        }
        written
    }

    /// The entry whose prefix is `prefix`. Most lengths have no entry or one: a table
    /// lookup and one compare, a block at a time.
    fn entry(&self, prefix: &[u8]) -> Option<&Entry> {
        let &(start, count) = self.by_len.get(prefix.len())?;
        match &self.entries[start..start + count] {
            [] => None,
            [e] => scan::same_bytes(&e.prefix, prefix).then_some(e),
            same_len => same_len
                .binary_search_by(|e| e.prefix.as_slice().cmp(prefix))
                .ok()
                .map(|i| &same_len[i]),
        }
    }

    /// Writes the ID of the URL at the start of `text`; returns the URL's length.
    fn try_write(&self, text: &[u8], out: &mut Vec<u8>) -> Option<usize> {
        // No more than one byte past the longest URL is read: a longer URL then ends at that
        // cut, one byte too long, and is refused below.
        let text = &text[..text.len().min(MAX_INPUT_URL_BYTES + 1)];
        let after_scheme = if text.starts_with(b"https://") {
            8
        } else if text.starts_with(b"http://") {
            7
        } else {
            return None;
        };
        // Virtual-hosted: the prefix ends at the authority's `/`; path-style: one segment on.
        // (A prefix found past the URL's end has a space in it: no entry has.)
        let first = after_scheme + memchr::memchr(b'/', &text[after_scheme..])? + 1;
        let e = match self.entry(&text[..first]) {
            Some(e) => e,
            None => {
                let second = first + text[first..].iter().position(|&b| b == b'/')? + 1;
                self.entry(&text[..second])?
            }
        };
        let raw = &text[e.prefix.len()..];
        scan::push_from(out, &e.id_prefix, 0, e.id_len);
        let key_start = out.len();
        let Key {
            decoded,
            len,
            query,
            maybe_dot_segment,
        } = canonical_key(raw, out)?;
        let key = &out[key_start..];
        // `is_empty` first: most routes have no key prefix, and glibc's AVX-512 memcmp takes
        // a slow path for the dangling pointer of an empty Vec (measured with perf: a
        // quarter of the helper's time went to that one zero-length compare).
        if decoded == 0
            || decoded > MAX_KEY_BYTES
            || !(e.key_prefix.is_empty() || key.starts_with(&e.key_prefix))
            || (maybe_dot_segment && has_dot_segment_bytes(key))
            || is_route_root(&key[e.key_prefix.len()..])
        {
            return None;
        }
        let query_len = if query {
            1 + only_signature_params(&raw[len + 1..])?
        } else {
            0
        };
        let url_len = e.prefix.len() + len + query_len;
        (url_len <= MAX_INPUT_URL_BYTES).then_some(url_len)
    }
}

/// Whether a route-relative key (S3-encoded, where `/` stays `/`) is the route's root:
/// empty or slashes alone ([`s3map::decide::only_slashes`]). One byte looked at for almost
/// every key.
fn is_route_root(relative: &[u8]) -> bool {
    relative.first().is_none_or(|&b| b == b'/') && relative.iter().all(|&b| b == b'/')
}

/// The length of the query at the start of `rest` (up to a space or the end), if it is
/// printable ASCII without a fragment and every `&`-separated pair of it is a
/// signature parameter (those are left out of IDs).
fn only_signature_params(rest: &[u8]) -> Option<usize> {
    // Sixteen bytes at a time: a space ends the query; before it, any `#` or byte that
    // is not printable fails, and each `&` starts a pair.
    pair_ok(rest)?;
    let (blocks, _) = rest.as_chunks::<{ scan::BLOCK }>();
    let mut at = 0;
    for block in blocks {
        if let Some(end) = pairs_in_block(rest, at, scan::load(block), 0, scan::BLOCK)? {
            return Some(end);
        }
        at += scan::BLOCK;
    }
    if at < rest.len() {
        let (block, skip) = scan::block_from(rest, at);
        if let Some(end) = pairs_in_block(rest, at, block, skip, rest.len() - at)? {
            return Some(end);
        }
    }
    Some(rest.len())
}

/// The part of the query in the block of `rest` at `at` (lane `skip + i` is
/// `rest[at + i]` for `i < len`, `len <= 16`): `Some(None)` if it goes on past the
/// block, `Some(Some(end))` if it ends at `end` in it, `None` if it fails.
#[inline(always)]
fn pairs_in_block(
    rest: &[u8],
    at: usize,
    block: u8x16,
    skip: u32,
    len: usize,
) -> Option<Option<usize>> {
    let spaces = scan::eq(block, b' ') >> skip;
    // The lanes of `rest` up to the first space (all of them without one).
    let within = spaces.wrapping_sub(1) & !spaces & ((1 << len) - 1);
    let bad = (scan::eq(block, b'#') | !scan::printable(block)) >> skip;
    if bad & within != 0 {
        return None;
    }
    let mut amps = (scan::eq(block, b'&') >> skip) & within;
    while amps != 0 {
        pair_ok(&rest[at + amps.trailing_zeros() as usize + 1..])?;
        amps &= amps - 1;
    }
    Some((spaces != 0).then(|| at + spaces.trailing_zeros() as usize))
}

/// The pair at the start of `rest` (which runs to the end of the query, or on past a
/// space that ends it) is empty or a signature parameter.
fn pair_ok(rest: &[u8]) -> Option<()> {
    match rest.first() {
        None | Some(b'&' | b' ') => Some(()),
        Some(_) => is_signature_param(rest).then_some(()),
    }
}

/// Bit i: the pair at the start of `pair` may be `SIGNATURE_PARAMS[i]`, going by its
/// probed bytes.
#[inline]
fn candidates(pair: &[u8]) -> u16 {
    let mut set = u16::MAX;
    for (table, at) in PARAMS_AT.iter().zip(PARAM_PROBES) {
        let b = pair.get(at).copied().unwrap_or(0);
        set &= table[usize::from(b & 0x7f)];
    }
    set
}

/// Whether the pair at the start of `pair` (up to `&`, a space or the end) is a
/// signature parameter.
fn is_signature_param(pair: &[u8]) -> bool {
    // The names that share this pair's probed bytes: one at most for every name the
    // pair can be (no loop to mispredict), instead of all eleven.
    let mut set = candidates(pair);
    if set == 0 {
        return false;
    }
    // Names compared a block at a time: the first sixteen bytes in one compare, the
    // rest (four at most) bytewise.
    let block = scan::block(pair, 0, 0);
    while set != 0 {
        let i = set.trailing_zeros() as usize;
        let p = SIGNATURE_PARAMS[i].as_bytes();
        let (head, lanes) = &PARAM_HEADS[i];
        let name_ends = match pair.get(p.len()) {
            // No name has a space: one after it ends the URL, and the pair.
            Some(&b) => b == b'=' || b == b'&' || b == b' ',
            None => pair.len() == p.len(),
        };
        if name_ends
            && scan::same(block, scan::load(head)) & lanes == *lanes
            && p.iter().zip(pair).skip(scan::BLOCK).all(|(a, b)| a == b)
        {
            return true;
        }
        set &= set - 1;
    }
    false
}

/// A canonical key, written.
struct Key {
    /// Its decoded length.
    decoded: usize,
    /// Its raw length.
    len: usize,
    /// Whether a `?` follows it (else the URL ends with it, at a space or the end).
    query: bool,
    /// Whether a `.` starts one of its segments (then it may have a `.`/`..` segment).
    maybe_dot_segment: bool,
}

/// Appends the S3-canonical form of a raw S3-path key (`+` is a space, as S3 reads it) up
/// to the query, a space or the end, or returns None for anything the general path must
/// judge: raw bytes other than `A-Za-z0-9-._~/+`, bad escapes, control characters, invalid
/// UTF-8, a fragment.
fn canonical_key(raw: &[u8], out: &mut Vec<u8>) -> Option<Key> {
    let key_start = out.len();
    let mut decoded = 0;
    let mut maybe_dot_segment = false;
    let mut i = 0;
    // Decoded non-ASCII bytes not yet checked as UTF-8.
    let mut utf8 = [0u8; MAX_UTF8_RUN];
    let mut pending = 0;
    let mut stops = Stops::new(raw);
    let query = loop {
        let run_end = stops.next(i);
        if run_end > i {
            check_utf8(&utf8[..pending])?;
            pending = 0;
            scan::push_from(out, raw, i, run_end);
            decoded += run_end - i;
            i = run_end;
        }
        let Some(&b) = raw.get(i) else {
            break false;
        };
        let d = match b {
            b'?' => break true,
            b' ' => break false,
            b'+' => b' ',
            b'.' => b'.',
            b'%' => {
                let hi = hex_val(*raw.get(i + 1)?)?;
                let lo = hex_val(*raw.get(i + 2)?)?;
                i += 2;
                hi << 4 | lo
            }
            _ => return None,
        };
        i += 1;
        decoded += 1;
        if d >= 0x80 {
            *utf8.get_mut(pending)? = d;
            pending += 1;
        } else {
            check_utf8(&utf8[..pending])?;
            pending = 0;
            if d < 0x20 || d == 0x7f {
                return None;
            }
        }
        if d == b'.' {
            // A segment starts here: at the key's start or after a `/`.
            maybe_dot_segment |= out.len() == key_start || out.last() == Some(&b'/');
        }
        if KEEP[usize::from(d)] {
            out.push(d);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(d >> 4)], HEX[usize::from(d & 15)]]);
        }
    };
    check_utf8(&utf8[..pending])?;
    Some(Key {
        decoded,
        len: i,
        query,
        maybe_dot_segment,
    })
}

/// Prefixes are ordered by length first (`by_len` indexes them so), then by bytes (a
/// binary search among those of one length).
fn by_len_then_bytes(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Where the run bytes of a key stop (the bytes it copies as they are, `A-Za-z0-9-_~/`: the
/// unreserved ones and `/` but `.`, which is looked at on its own for dot segments), found
/// a block at a time: each block is classified once, however many escapes it holds.
struct Stops<'u> {
    raw: &'u [u8],
    /// Bit k: `raw[base + k]` is not a run byte (or lies past the end), for
    /// `base + k < end`.
    mask: u32,
    base: usize,
    end: usize,
}

impl<'u> Stops<'u> {
    fn new(raw: &'u [u8]) -> Self {
        Stops {
            raw,
            mask: 0,
            base: 0,
            end: 0,
        }
    }

    /// The first index at or after `i` (which never goes back) whose byte is not a
    /// run byte, or the length.
    #[inline]
    fn next(&mut self, mut i: usize) -> usize {
        loop {
            if i < self.end {
                // `base <= i`: blocks are loaded where a search starts, and searches only
                // go forward.
                let m = self.mask >> (i - self.base);
                if m != 0 {
                    return i + m.trailing_zeros() as usize;
                }
                i = self.end;
            }
            if i >= self.raw.len() {
                return self.raw.len();
            }
            let (block, skip) = scan::block_from(self.raw, i);
            self.mask = (!run_lanes(block) & 0xffff) >> skip;
            self.base = i;
            self.end = i + scan::BLOCK - skip as usize;
        }
    }
}

/// Bit i: lane i is a run byte (`A-Za-z0-9-_~/`).
#[inline]
fn run_lanes(v: u8x16) -> u32 {
    let splat = u8x16::splat;
    let alpha = ((v | splat(0x20)) - splat(b'a')).simd_lt(splat(26));
    let digit = (v - splat(b'0')).simd_lt(splat(10));
    let punct = v.simd_eq(splat(b'-'))
        | v.simd_eq(splat(b'_'))
        | v.simd_eq(splat(b'~'))
        | v.simd_eq(splat(b'/'));
    (alpha | digit | punct).to_bitmask()
}

/// A run of decoded non-ASCII bytes: whole UTF-8 characters, none of them a C1 control.
fn check_utf8(run: &[u8]) -> Option<()> {
    if run.is_empty() {
        return Some(());
    }
    let s = std::str::from_utf8(run).ok()?;
    (!s3map::decide::has_control(s)).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run bytes: [`KEEP`] without `.`.
    const RUN: [bool; 256] = {
        let mut t = KEEP;
        t[b'.' as usize] = false;
        t
    };

    #[test]
    fn run_lanes_are_the_run_table() {
        for b in 0..=255u8 {
            for lane in [0, 7, 15] {
                let mut lanes = [b'%'; scan::BLOCK];
                lanes[lane] = b;
                assert_eq!(
                    run_lanes(u8x16::new(lanes)),
                    u32::from(RUN[usize::from(b)]) << lane,
                    "{b:#04x} in lane {lane}"
                );
            }
        }
    }

    #[test]
    fn stops_in_every_alignment() {
        // Every key length up to three blocks, every pair of stop positions, every start; the
        // walk goes forward from each stop, as canonical_key does.
        for len in 0..48 {
            for a in 0..=len {
                for b in a..=len {
                    let mut raw = vec![b'a'; len];
                    for &at in [a, b].iter().filter(|&&at| at < len) {
                        raw[at] = b'%';
                    }
                    for start in 0..=len {
                        let want: Vec<usize> = (start..len).filter(|&k| raw[k] == b'%').collect();
                        let mut stops = Stops::new(&raw);
                        let mut got = Vec::new();
                        let mut i = start;
                        loop {
                            let next = stops.next(i);
                            if next >= len {
                                assert_eq!(next, len);
                                break;
                            }
                            got.push(next);
                            i = next + 1;
                        }
                        assert_eq!(got, want, "{len} {a} {b} {start}");
                    }
                }
            }
        }
    }

    #[test]
    fn query_pairs_at_every_alignment() {
        let pairs = [
            "X-Amz-Date=1",
            "",
            "x-id",
            "Signature=a&b",
            "versionId=1",
            "#",
            "acl",
        ];
        for pad in 0..40 {
            for (n, extra) in pairs.iter().enumerate() {
                let query = format!(
                    "X-Amz-Expires={}&{extra}&X-Amz-Signature=00",
                    "3".repeat(pad)
                );
                // "Signature=a&b" is two pairs, the second ("b") not a signature parameter.
                let ok = matches!(n, 0..=2);
                assert_eq!(
                    only_signature_params(query.as_bytes()).is_some(),
                    ok,
                    "{query}"
                );
            }
        }
    }

    #[test]
    fn prefixes_of_one_length_are_told_apart() {
        let buckets = ["bk1", "bk2", "bk3", "bk4", "longer-bucket"];
        let toml: String = buckets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                format!(
                    "[[route]]\nname = 'r{i}'\npublic = 'http://img{i}.example.com/'\n\
                     bucket = '{b}'\nregion = 'us-east-1'\n"
                )
            })
            .collect();
        let cfg = s3map::config::Config::parse(&toml).unwrap();
        let table = RouteTable::new(&cfg.routes);
        let index = FastIndex::new(&table);
        for b in buckets {
            for url in [
                format!("https://{b}.s3.us-east-1.amazonaws.com/k"),
                format!("https://{b}.s3.us-east-1.amazonaws.con/k"),
            ] {
                let mut out = Vec::new();
                let answered = index.write_id(url.as_bytes(), &mut out);
                assert_eq!(answered, url.ends_with(".com/k"), "{url}");
                if answered {
                    let id = String::from_utf8(out).unwrap();
                    assert_eq!(Some(id), for_url(&table, &url), "{url}");
                }
            }
        }
    }

    #[test]
    fn urls_up_to_the_limit_and_one_byte_over() {
        let cfg = s3map::config::Config::parse(
            "[[route]]\nname = 'p'\npublic = 'http://img.example.com/'\nbucket = 'photos'\n\
             region = 'us-east-1'\nendpoint = 'http://127.0.0.1:9000'\naddressing = 'path'\n",
        )
        .unwrap();
        let table = RouteTable::new(&cfg.routes);
        let index = FastIndex::new(&table);
        let base = "http://127.0.0.1:9000/photos/a?X-Amz-Security-Token=";
        for len in [MAX_INPUT_URL_BYTES, MAX_INPUT_URL_BYTES + 1] {
            let url = format!("{base}{}", "t".repeat(len - base.len()));
            let general = for_url(&table, &url);
            assert_eq!(general.is_some(), len == MAX_INPUT_URL_BYTES, "{len}");
            let mut out = Vec::new();
            let line = format!("{url} 192.0.2.7/- - GET");
            let fast = index.write_id_of_first_token(line.as_bytes(), &mut out);
            assert_eq!(fast, general.is_some().then_some(len), "{len}");
            assert_eq!(
                general.map(String::into_bytes).unwrap_or_default(),
                out,
                "{len}"
            );
        }
    }

    #[test]
    fn queries_of_every_length_and_where_they_end() {
        for n in 0..40 {
            let query = format!("x-id={}&", "1".repeat(n));
            let len = query.len();
            assert_eq!(only_signature_params(query.as_bytes()), Some(len));
            let line = format!("{query} 10.0.0.1/- - GET");
            assert_eq!(only_signature_params(line.as_bytes()), Some(len));
            for bad in ["#", "\t", "\u{7f}", "acl", "\r"] {
                let query = format!("{query}{bad}");
                assert_eq!(only_signature_params(query.as_bytes()), None, "{query:?}");
            }
        }
    }

    #[test]
    fn signature_params_exactly() {
        let is = |pair: &[u8]| is_signature_param(pair);
        for p in SIGNATURE_PARAMS {
            // The probes leave one candidate for every name (with any value), so no pair
            // is compared with two names.
            for pair in [
                p.to_owned(),
                format!("{p}="),
                format!("{p}=v"),
                format!("{p}&x"),
            ] {
                assert_eq!(candidates(pair.as_bytes()).count_ones(), 1, "{pair}");
            }
            assert!(is(p.as_bytes()), "{p}");
            assert!(is(format!("{p}=v=w").as_bytes()), "{p}");
            assert!(is(format!("{p}=").as_bytes()), "{p}");
            assert!(!is(format!("{p}x=v").as_bytes()), "{p}");
            assert!(!is(format!("{p}{}", "x".repeat(40)).as_bytes()), "{p}");
            assert!(!is(&p.as_bytes()[1..]), "{p}");
            assert!(!is(p.to_ascii_lowercase().as_bytes()) || p == "x-id", "{p}");
        }
        for good in ["x-id=GetObject", "x-id", "Expires=1", "Signature=Zm9v"] {
            assert!(is(good.as_bytes()), "{good}");
        }
        for bad in [
            "versionId=1",
            "=X-Amz-Date",
            "",
            "=",
            "X-Amz-Dates=1",
            "x-i",
            "\u{e9}",
        ] {
            assert!(!is(bad.as_bytes()), "{bad}");
        }
    }
}
