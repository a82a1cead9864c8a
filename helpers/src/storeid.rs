//! `s3squid-storeid`'s rule: the store ID of a URL, via the shared canonicaliser, with the
//! one-pass fast path for a route's own S3 spelling ([`s3map::storeid::FastIndex`]).

use s3map::route::RouteTable;
use s3map::storeid::FastIndex;

use crate::protocol::{encode, encode_store_id_with, split_printable, Reply, Request};
use crate::runner::Rule;

/// `OK store-id="…"` for an object under a route (public or S3 spelling), `ERR` otherwise.
pub fn decide(table: &RouteTable, req: &Request<'_>) -> Reply {
    match s3map::storeid::for_url(table, req.url) {
        Some(id) => Reply::StoreId(id),
        None => Reply::Err,
    }
}

/// The store-id rule with its fast path: a line that is printable ASCII and names a
/// route's own S3 spelling is answered in one pass over its bytes, with no allocation.
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
        let Some((channel, url)) = split_printable(line) else {
            return false;
        };
        encode_store_id_with(out, channel, |out| self.fast.write_id(url, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::parse_line;

    /// The raw fast path answers exactly what parsing the line and the general rule would,
    /// and leaves the buffer alone when it declines.
    #[test]
    fn raw_fast_path_answers_like_the_parsed_path() {
        let cfg = s3map::config::Config::parse(
            "[[route]]\nname='p'\npublic='http://images.example.com/photos/'\nbucket='photos'\n\
             region='us-east-1'\nendpoint='http://127.0.0.1:9000'\naddressing='path'\n\
             [[route]]\nname='a'\npublic='http://img.example.com/'\nbucket='acme'\nregion='us-east-1'\n",
        )
        .unwrap();
        let mut rule = StoreIdRule::new(RouteTable::new(&cfg.routes));
        let sig = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261126%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261126T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=00ff";
        let urls = [
            format!("https://acme.s3.us-east-1.amazonaws.com/a%20b/%E6%97%A5+c.jpg?{sig}"),
            format!("http://127.0.0.1:9000/photos/x/y.txt?{sig}"),
            "http://127.0.0.1:9000/photos/x/y.txt".to_owned(),
            "http://images.example.com/photos/q%22uote".to_owned(),
            format!("https://acme.s3.us-east-1.amazonaws.com/a?{sig}&acl"),
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
            ] {
                let mut parsed = Vec::new();
                rule.answer(&parse_line(line.as_bytes()).unwrap(), &mut parsed);
                let mut raw = b"before".to_vec();
                if rule.answer_raw(line.as_bytes(), &mut raw) {
                    fast_answers += 1;
                    assert_eq!(&raw[6..], parsed, "{line}");
                } else {
                    assert_eq!(raw, b"before", "{line}");
                }
            }
        }
        assert_eq!(fast_answers, 9, "the fast path takes the S3 spellings");
    }
}
