//! The Squid helpers' parsers: one request line, and the whole helper loop (read, split,
//! decide, reply) of `s3squid-storeid` and `s3squid-rewrite` over in-memory streams.

use std::cell::RefCell;
use std::io::{self, Write};

use s3squid_helpers::protocol::{
    channel_of, encode, parse_line, split_channel, Reply, Request, MAX_HELPER_LINE,
};
use s3squid_helpers::rewrite::decide_rewrite;
use s3squid_helpers::runner::{run, Rule, Stop};
use s3squid_helpers::storeid::StoreIdRule;

use super::{unmeasured, Pieces, Target, KIB};
use crate::driver::mutate::{fnv1a, fnv1a_more};
use crate::routes::table;

/// The helper loop's read buffer (`runner::run`).
const READ_BUF: usize = 64 * KIB;

/// The most reply bytes one request byte can bring: an empty line (one byte, `\n`) is
/// answered `ERR message="empty request line"\n` (33 bytes).
const REPLY_PER_BYTE: usize = 33;

const LINE_TOKENS: &[&[u8]] = &[
    b"0 ",
    b"17 ",
    b"99999999999999999999 ",
    b"999999999999999999999 ",
    b"http://images.example.com/photos/",
    b"https://acme.s3.us-east-1.amazonaws.com/",
    b"http://127.0.0.1:9000/photos/",
    b"http://www.example.com/",
    b"http://s3.squid.internal/v1/aws/thumbs/small/",
    b" 192.0.2.7/192.0.2.7 - GET myip=10.0.0.1 myport=3128",
    b" - - HEAD",
    b" - - PUT",
    b"?X-Amz-Signature=00",
    b"&X-Amz-Date=20261126T000000Z",
    b"&x-id=GetObject",
    b"?versionId=",
    b"&acl",
    b"\r",
    b"\t",
    b"\"",
    b"\\",
];

/// `protocol::parse_line`, `channel_of`, `split_channel` and `encode` on one line.
///
/// Bound: parsing borrows the line; the reply holds the URL once more and quoted (≤ 2×)
/// in a growing vector (≤ 3× while it grows): 8 × min(len, [`MAX_HELPER_LINE`] + 1) + 1 KiB.
pub const HELPER_LINE: Target = Target {
    name: "helper_line",
    entry: "s3squid_helpers::protocol::{parse_line, channel_of, split_channel, encode}",
    run: helper_line,
    bound: |len| 8 * len.min(MAX_HELPER_LINE + 1) + KIB,
    accepts: |d| parse_line(d).is_ok(),
    tokens: LINE_TOKENS,
};

/// Splits one request line and encodes a reply echoing its URL. The three ways to find
/// the channel ID agree; an accepted line is within [`MAX_HELPER_LINE`], its URL is a
/// non-empty token without spaces or control characters found where `split_channel`
/// says, and the reply is one line (no CR, one LF, at the end) that starts with the
/// channel ID.
pub fn helper_line(data: &[u8]) {
    let parsed = parse_line(data);
    let channel = channel_of(data);
    let (split, url_start) = split_channel(data);
    let reply = parsed.as_ref().ok().map(|req| {
        let mut out = Vec::new();
        encode(&mut out, req.channel, &Reply::StoreId(req.url.to_owned()));
        out
    });
    unmeasured(|| {
        assert_eq!(
            channel.map(str::as_bytes),
            split,
            "channel_of and split_channel"
        );
        assert!(url_start <= data.len(), "the URL starts past the line");
        let (Ok(req), Some(reply)) = (&parsed, &reply) else {
            return;
        };
        let line = data.strip_suffix(b"\r").unwrap_or(data);
        assert!(
            line.len() <= MAX_HELPER_LINE,
            "accepted {} bytes",
            line.len()
        );
        assert_eq!(req.channel, channel_of(line), "parse_line and channel_of");
        assert!(!req.url.is_empty(), "an empty URL");
        // A tab is the one control character a line may carry (the mapping refuses it).
        assert!(
            !req.url
                .bytes()
                .any(|b| b == b' ' || (b < 0x20 && b != b'\t') || b == 0x7f),
            "a URL with a space or a control character"
        );
        let at = req.url.as_ptr() as usize - line.as_ptr() as usize;
        assert_eq!(
            split_channel(line).1,
            at,
            "where split_channel says the URL starts"
        );
        assert!(!reply.contains(&b'\r'), "a CR in a reply");
        assert_eq!(
            reply.iter().position(|&b| b == b'\n'),
            Some(reply.len() - 1),
            "a reply that is not one line"
        );
        if let Some(c) = req.channel {
            assert!(
                reply.starts_with(c.as_bytes()) && reply.get(c.len()) == Some(&b' '),
                "a reply without its channel ID"
            );
        }
    });
}

/// A helper's stdout: checks each reply against the request line it answers (in order),
/// keeps nothing.
struct Replies<'a> {
    /// The request lines not answered yet.
    pending: &'a [u8],
    answered: usize,
    /// FNV-1a of every reply byte, to compare two runs without keeping their output.
    hash: u64,
}

impl<'a> Replies<'a> {
    fn new(input: &'a [u8]) -> Self {
        Replies {
            pending: input,
            answered: 0,
            hash: fnv1a(b""),
        }
    }

    fn check(&mut self, reply: &[u8]) {
        assert!(!self.pending.is_empty(), "a reply to no request line");
        let (line, rest) = match memchr_nl(self.pending) {
            Some(i) => (&self.pending[..i], &self.pending[i + 1..]),
            None => (self.pending, &[][..]),
        };
        self.pending = rest;
        self.answered += 1;
        let reply = reply.strip_suffix(b"\n").unwrap_or(reply);
        assert!(!reply.contains(&b'\r'), "a CR in a reply");
        let verdict = match channel_of(line) {
            Some(c) => reply
                .strip_prefix(c.as_bytes())
                .and_then(|r| r.strip_prefix(b" ")),
            None => Some(reply),
        };
        assert!(
            verdict.is_some_and(|v| v.starts_with(b"OK ") || v == b"ERR" || v.starts_with(b"ERR message=")),
            "reply {} does not start with the line's channel ID and OK or ERR (a client's line never gets BH)",
            self.answered
        );
    }

    /// Every line was answered, except a last line without `\n` that is too long.
    fn finish(&self) {
        assert!(
            self.pending.is_empty() || self.pending.len() > MAX_HELPER_LINE,
            "{} request bytes without a reply",
            self.pending.len()
        );
    }
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

impl Write for Replies<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        assert!(
            buf.ends_with(b"\n"),
            "a write that ends inside a reply line"
        );
        for reply in buf.split_inclusive(|&b| b == b'\n') {
            self.check(reply);
        }
        self.hash = fnv1a_more(self.hash, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A rule used through a `&mut` (the runner takes its rule by value).
struct Borrowed<'a, R>(&'a mut R);

impl<R: Rule> Rule for Borrowed<'_, R> {
    fn answer(&mut self, req: &Request<'_>, out: &mut Vec<u8>) {
        self.0.answer(req, out);
    }

    fn answer_raw(&mut self, line: &[u8], out: &mut Vec<u8>) -> bool {
        self.0.answer_raw(line, out)
    }
}

thread_local! {
    /// The store-id rule (route table and fast-path index), built once per thread.
    static STOREID: RefCell<StoreIdRule> = RefCell::new(StoreIdRule::new(table().clone()));
}

/// The helper loop's bound for an input of `len` bytes: the read buffer, the replies to
/// one read's worth of lines (≤ [`REPLY_PER_BYTE`] per byte, at least the initial 64 KiB,
/// ≤ 3× while the vector grows), and one line's decision (≤ 16 × min(len,
/// [`MAX_HELPER_LINE`]): the decoded key, the ID or URL with every byte escaped, the
/// quoted reply) plus 16 KiB.
fn runner_bound(len: usize) -> usize {
    READ_BUF
        + 3 * (REPLY_PER_BYTE * len.min(READ_BUF)).max(64 * KIB)
        + 16 * len.min(MAX_HELPER_LINE)
        + 16 * KIB
}

/// Whether every line gets an `OK` or `ERR` (no `BH`) from `rule`.
fn no_bh(data: &[u8], rule: impl Rule) -> bool {
    let mut out = Vec::new();
    run(data, &mut out, rule) == Stop::Eof
        && out
            .split(|&b| b == b'\n')
            .all(|r| !r.windows(3).any(|w| w == b"BH "))
}

/// `runner::run` with `storeid::StoreIdRule` (fast path included).
///
/// Bound: [`runner_bound`].
pub const HELPER_STOREID: Target = Target {
    name: "helper_storeid",
    entry: "s3squid_helpers::runner::run + storeid::StoreIdRule",
    run: helper_storeid,
    bound: runner_bound,
    accepts: |d| STOREID.with(|r| no_bh(d, Borrowed(&mut *r.borrow_mut()))),
    tokens: LINE_TOKENS,
};

/// Runs the store-id helper on a stream of request lines read in pieces. It stops at EOF,
/// answers every line once, in order, with the line's channel ID, and the same as when
/// the stream is read whole; and for each of the first eight
/// lines the raw fast path answers exactly what parsing the line and the general rule do.
pub fn helper_storeid(data: &[u8]) {
    STOREID.with(|rule| {
        let mut rule = rule.borrow_mut();
        let mut replies = Replies::new(data);
        let stop = run(Pieces::new(data), &mut replies, Borrowed(&mut *rule));
        unmeasured(|| {
            assert_eq!(stop, Stop::Eof, "the loop did not end at EOF");
            replies.finish();
            let mut whole = Replies::new(data);
            run(data, &mut whole, Borrowed(&mut *rule));
            assert_eq!(
                whole.hash, replies.hash,
                "other replies when read in other pieces"
            );
            for line in data.split(|&b| b == b'\n').take(8) {
                let mut raw = Vec::new();
                if rule.answer_raw(line, &mut raw) {
                    let req =
                        parse_line(line).expect("the fast path answered a line parse_line refuses");
                    let mut parsed = Vec::new();
                    rule.answer(&req, &mut parsed);
                    assert!(raw == parsed, "the fast path and the general rule disagree");
                } else {
                    assert!(raw.is_empty(), "the fast path declined but wrote");
                }
            }
        });
    });
}

fn rewrite_rule(req: &Request<'_>) -> Reply {
    decide_rewrite(table(), req)
}

/// `runner::run` with `rewrite::decide_rewrite`.
///
/// Bound: [`runner_bound`].
pub const HELPER_REWRITE: Target = Target {
    name: "helper_rewrite",
    entry: "s3squid_helpers::runner::run + rewrite::decide_rewrite",
    run: helper_rewrite,
    bound: runner_bound,
    accepts: |d| no_bh(d, rewrite_rule),
    tokens: LINE_TOKENS,
};

/// Runs the rewrite helper on a stream of request lines read in pieces: it stops at EOF
/// and answers every line once, in order, with the line's channel ID, and the same as
/// when the stream is read whole.
pub fn helper_rewrite(data: &[u8]) {
    let mut replies = Replies::new(data);
    let stop = run(Pieces::new(data), &mut replies, rewrite_rule);
    unmeasured(|| {
        assert_eq!(stop, Stop::Eof, "the loop did not end at EOF");
        replies.finish();
        let mut whole = Replies::new(data);
        run(data, &mut whole, rewrite_rule);
        assert_eq!(
            whole.hash, replies.hash,
            "other replies when read in other pieces"
        );
    });
}
