//! `s3squid-storeid`'s rule: the store ID of a URL, via the shared canonicaliser, with the
//! one-pass fast path for a route's own S3 spelling ([`FastIndex`]).

use s3map::route::RouteTable;

#[cfg(test)]
mod agreement;
mod fast;
mod scan;

pub use fast::FastIndex;

use crate::protocol::{
    encode, encode_store_id_with, split_channel, Reply, Request, MAX_HELPER_LINE,
};
use crate::runner::Rule;

/// `OK store-id="…"` for an object under a route (public or S3 spelling), `ERR` otherwise.
pub fn decide(table: &RouteTable, req: &Request<'_>) -> Reply {
    match s3map::storeid::for_url(table, req.url) {
        Some(id) => Reply::StoreId(id),
        None => Reply::Err,
    }
}

/// The store-id rule with its fast path: a line whose URL is a route's own S3 spelling, and
/// which is printable ASCII, is answered in one pass over its bytes, with no allocation.
pub struct StoreIdRule {
    table: RouteTable,
    fast: FastIndex,
}

impl StoreIdRule {
    /// Builds the rule for a route table.
    pub fn new(table: RouteTable) -> Self {
        let fast = FastIndex::new(&table);
        StoreIdRule { table, fast }
    }
}

impl Rule for StoreIdRule {
    fn answer(&mut self, req: &Request<'_>, out: &mut Vec<u8>) {
        encode(out, req.channel, &decide(&self.table, req));
    }

    fn answer_raw(&mut self, line: &[u8], out: &mut Vec<u8>) -> bool {
        if line.len() > MAX_HELPER_LINE {
            return false;
        }
        let (channel, start) = split_channel(line);
        let rest = &line[start..];
        encode_store_id_with(out, channel, |out| {
            // The fast path checks every byte of the URL it reads; the extras after it must
            // be printable ASCII too (no tab, no CR: those lines take the general path).
            self.fast
                .write_id_of_first_token(rest, out)
                .is_some_and(|end| scan::all_printable(&rest[end..]))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::parse_line;
    use proptest::prelude::*;

    fn rule() -> StoreIdRule {
        StoreIdRule::new(s3map::fixtures::routes())
    }

    /// Whatever the raw fast path answers for `line` is what parsing it and the general
    /// rule answer; when it declines, it leaves the buffer alone. Returns whether it
    /// answered.
    fn raw_agrees(rule: &mut StoreIdRule, line: &[u8]) -> bool {
        let mut raw = b"before".to_vec();
        if !rule.answer_raw(line, &mut raw) {
            assert_eq!(raw, b"before", "{}", String::from_utf8_lossy(line));
            return false;
        }
        let req = parse_line(line).expect("the fast path answered a line parse_line refuses");
        let mut parsed = Vec::new();
        rule.answer(&req, &mut parsed);
        assert_eq!(&raw[6..], parsed, "{}", String::from_utf8_lossy(line));
        true
    }

    const PRESIGNED: &str = "17 https://photos.s3.us-east-1.amazonaws.com/dir/a%20b+%E6%97%A5.jpg?\
        X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261126%2Fus-east-1%2Fs3%2F\
        aws4_request&X-Amz-Date=20261126T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&\
        X-Amz-Signature=00ff 192.0.2.7/192.0.2.7 - GET myip=10.0.0.1 myport=3128";

    #[test]
    fn the_unchanged_line_takes_the_fast_path() {
        assert!(raw_agrees(&mut rule(), PRESIGNED.as_bytes()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        /// Any byte, anywhere in a presigned line (replacing one or inserted), or the line cut
        /// short: the fast path, which checks the URL's bytes as it reads them, never answers
        /// differently from parsing the line.
        #[test]
        fn any_byte_anywhere_never_makes_the_raw_path_disagree(
            at in 0..PRESIGNED.len() + 1,
            byte in any::<u8>(),
            how in 0..3u8,
        ) {
            let mut line = PRESIGNED.as_bytes().to_vec();
            match how {
                0 if at < line.len() => line[at] = byte,
                1 => line.insert(at, byte),
                _ => line.truncate(at),
            }
            raw_agrees(&mut rule(), &line);
        }
    }

    /// The raw fast path answers exactly what parsing the line and the general rule would,
    /// and leaves the buffer alone when it declines.
    #[test]
    fn raw_fast_path_answers_like_the_parsed_path() {
        let mut rule = rule();
        let sig = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261126%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261126T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=00ff";
        let urls = [
            format!("https://photos.s3.us-east-1.amazonaws.com/a%20b/%E6%97%A5+c.jpg?{sig}"),
            format!("http://127.0.0.1:9000/photos/x/y.txt?{sig}"),
            "http://127.0.0.1:9000/photos/x/y.txt".to_owned(),
            "http://images.example.com/photos/q%22uote".to_owned(),
            format!("https://photos.s3.us-east-1.amazonaws.com/a?{sig}&acl"),
            "http://elsewhere.example.com/x".to_owned(),
        ];
        let mut fast_answers = 0;
        for url in &urls {
            for line in [
                format!("17 {url} 192.0.2.7/192.0.2.7 - GET myip=10.0.0.1 myport=3128"),
                format!("{url} 192.0.2.7/192.0.2.7 - GET"),
                format!("3  {url}"),
                format!("{url}\r"),
                format!("{url}\t-"),
                format!("{url} -\t-"),
                format!("{url}?"),
                format!("{url}&"),
                format!("{url}&x-id"),
                format!("{url}&x-id -"),
            ] {
                fast_answers += usize::from(raw_agrees(&mut rule, line.as_bytes()));
            }
        }
        // The three S3 spellings, in the forms without a tab or CR: seven for each presigned
        // URL, four for the plain one (a raw `&` in a key takes the general path).
        assert_eq!(fast_answers, 18, "the fast path takes the S3 spellings");
    }
}
