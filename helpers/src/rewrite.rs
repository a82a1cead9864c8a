//! `s3squid-rewrite`'s rule: the shared route mapping for `auth = "none"` routes, as a
//! `url_rewrite_program` (for Squids without s3squid-icap, or while it is bypassed).
//!
//! | request | reply |
//! |---|---|
//! | anything, while `[icap] pass_through = true` | `ERR`: the global switch leaves every request unchanged, as s3squid-icap does |
//! | object under an `auth = "none"` route with `signing = "off"` | `ERR`: the route's switch leaves it unchanged, as s3squid-icap does (a cached copy is served, a miss gets a 5xx, S3 is not asked) |
//! | object under an `auth = "none"` route | `OK rewrite-url="<S3 URL in the route's addressing style>"` |
//! | object under a `sigv4` route | `ERR`: left unchanged, never rewritten to an unsigned S3 URL (S3's 403 would replace stale copies, docs/design.md#fact-9) |
//! | a route's redirect | `OK status=30N url="<Location>"` |
//! | refused by a route's policy | `OK rewrite-url="http://refused.s3squid.invalid/<status>"`, which the sample configs deny in `adapted_http_access` (403), so S3 never sees it |
//! | anything else | `ERR` |

use s3map::config::Config;
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

/// s3squid-rewrite's rule for one configuration: its routes and the switches in force
/// (docs/operations.md#switches), read when Squid starts the helper.
pub struct Rewriter {
    table: RouteTable,
    pass_through: bool,
}

impl Rewriter {
    /// The rule for `cfg`.
    pub fn new(cfg: &Config) -> Self {
        Rewriter {
            table: RouteTable::new(&cfg.routes),
            pass_through: cfg.icap.pass_through,
        }
    }

    /// The rewrite reply for one request.
    pub fn reply(&self, req: &Request<'_>) -> Reply {
        if self.pass_through {
            return Reply::Err;
        }
        decide_rewrite(&self.table, req)
    }
}

/// The rewrite reply for one request under `table`, switches aside except each route's
/// `signing`.
pub fn decide_rewrite(table: &RouteTable, req: &Request<'_>) -> Reply {
    match decide(table, method_of(req.extras), req.url) {
        Decision::NotOurs => Reply::Err,
        Decision::Refuse(_, why) => {
            Reply::RewriteUrl(format!("http://{REFUSED_HOST}/{}", why.status()))
        }
        Decision::Redirect(_, status, location) => Reply::Redirect(status, location),
        Decision::Object(obj) if obj.route.auth == Auth::None && obj.route.signing => {
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

    /// Both switches leave a request s3squid-rewrite would map unchanged, as s3squid-icap
    /// does: the route's `signing = "off"` for that route's objects (its refusals and
    /// redirects still apply, as in s3squid-icap), `pass_through` for everything.
    #[test]
    fn switches_leave_requests_unchanged() {
        use s3map::config::Config;
        use s3map::fixtures::ROUTES_TOML;
        let parse = |text: &str| Config::parse(text).unwrap();
        fn line(l: &str) -> Request<'_> {
            parse_line(l.as_bytes()).unwrap()
        }
        let object = "http://cdn.example.com/a.jpg 1.2.3.4/1.2.3.4 - GET myip=x myport=y";
        let refused = "http://cdn.example.com/a.jpg 1.2.3.4/1.2.3.4 - PUT myip=x myport=y";
        let on = Rewriter::new(&parse(ROUTES_TOML));
        assert!(matches!(on.reply(&line(object)), Reply::RewriteUrl(_)));

        let off = Rewriter::new(&parse(&ROUTES_TOML.replace(
            "public = \"http://cdn.example.com/\"\n",
            "public = \"http://cdn.example.com/\"\nsigning = \"off\"\n",
        )));
        assert_eq!(off.reply(&line(object)), Reply::Err);
        assert_eq!(
            off.reply(&line(refused)),
            Reply::RewriteUrl(format!("http://{REFUSED_HOST}/405"))
        );
        assert_eq!(
            off.reply(&line("http://cdn.example.com/old.html")),
            Reply::Redirect(302, "/new.html".into())
        );

        let pass = Rewriter::new(&parse(&format!(
            "[icap]\npass_through = true\n{ROUTES_TOML}"
        )));
        for l in [object, refused, "http://cdn.example.com/old.html"] {
            assert_eq!(pass.reply(&line(l)), Reply::Err, "{l}");
        }
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
