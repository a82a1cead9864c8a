//! `s3squid-rewrite`'s rule: the shared route mapping for `auth = "none"` routes, as a
//! `url_rewrite_program` (for Squids without s3squid-icap, or while it is bypassed).
//!
//! | request | reply |
//! |---|---|
//! | object under an `auth = "none"` route | `OK rewrite-url="<S3 URL in the route's addressing style>"` |
//! | object under a `sigv4` route | `ERR`: left unchanged, never rewritten to an unsigned S3 URL (S3's 403 would replace stale copies, docs/design.md#fact-9) |
//! | a route's redirect | `OK status=30N url="<Location>"` |
//! | refused by a route's policy | `OK rewrite-url="http://refused.s3squid.invalid/<status>"`, which the sample configs deny in `adapted_http_access` (403), so S3 never sees it |
//! | anything else | `ERR` |

use s3map::decide::{decide, Decision, Method, REFUSED_HOST};
use s3map::route::{Auth, RouteTable};

use crate::protocol::{Reply, Request};

/// The request method from the extras, when they follow Squid's default
/// `%>a/%>A %un %>rm myip=%la myport=%lp` (method third; `None` for a method s3squid does
/// not forward). Without a method token there: `GET` — the sample configs admit only GET
/// and HEAD in `http_access` anyway.
pub fn method_of(extras: &str) -> Option<Method> {
    match extras.split(' ').nth(2) {
        Some(m) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) => {
            Method::from_token(m)
        }
        _ => Some(Method::Get),
    }
}

/// The rewrite reply for one request.
pub fn decide_rewrite(table: &RouteTable, req: &Request<'_>) -> Reply {
    match decide(table, method_of(req.extras), req.url) {
        Decision::NotOurs => Reply::Err,
        Decision::Refuse(_, why) => {
            Reply::RewriteUrl(format!("http://{REFUSED_HOST}/{}", why.status()))
        }
        Decision::Redirect(_, status, location) => Reply::Redirect(status, location),
        Decision::Object(obj) if obj.route.auth == Auth::None => {
            let url = obj.s3_url();
            if url.len() > s3map::limits::MAX_URL_BYTES {
                Reply::RewriteUrl(format!("http://{REFUSED_HOST}/400"))
            } else {
                Reply::RewriteUrl(url)
            }
        }
        Decision::Object(_) => Reply::Err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::parse_line;
    use s3map::fixtures::routes as table;

    fn reply(line: &str) -> Reply {
        decide_rewrite(&table(), &parse_line(line.as_bytes()).unwrap())
    }

    #[test]
    fn rewrites_unsigned_routes_only() {
        assert_eq!(
            reply("1 http://cdn.example.com/a%20b+c.jpg 192.0.2.7/192.0.2.7 - GET myip=10.0.0.1 myport=3128"),
            Reply::RewriteUrl("https://public-bucket.s3.eu-west-1.amazonaws.com/a%20b%2Bc.jpg".into())
        );
        assert_eq!(
            reply("http://cdn.example.com/docs/"),
            Reply::RewriteUrl(
                "https://public-bucket.s3.eu-west-1.amazonaws.com/docs/index.html".into()
            )
        );
        assert_eq!(
            reply("http://images.example.com/photos/a.jpg 1.2.3.4/1.2.3.4 - GET"),
            Reply::Err
        );
        assert_eq!(reply("http://elsewhere.example.com/a.jpg"), Reply::Err);
        assert_eq!(
            reply("http://cdn.example.com/old.html"),
            Reply::Redirect(302, "/new.html".into())
        );
    }

    #[test]
    fn refusals_go_to_the_refused_host() {
        let refused = |s: u16| Reply::RewriteUrl(format!("http://{REFUSED_HOST}/{s}"));
        assert_eq!(
            reply("http://cdn.example.com/a.jpg 1.2.3.4/1.2.3.4 - PUT myip=x myport=y"),
            refused(405)
        );
        assert_eq!(
            reply("http://cdn.example.com/a.jpg?list-type=2"),
            refused(403)
        );
        assert_eq!(reply("http://cdn.example.com/a%zz"), refused(400));
        assert_eq!(
            reply("http://images.example.com/photos/ 1.2.3.4/1.2.3.4 - GET"),
            refused(403)
        );
    }

    #[test]
    fn method_from_default_extras() {
        assert_eq!(
            method_of("192.0.2.7/192.0.2.7 - HEAD myip=10.0.0.1 myport=3128"),
            Some(Method::Head)
        );
        assert_eq!(
            method_of("192.0.2.7/192.0.2.7 alice DELETE myip=1 myport=2"),
            None
        );
        assert_eq!(method_of(""), Some(Method::Get));
        assert_eq!(method_of("custom extras only"), Some(Method::Get));
    }
}
