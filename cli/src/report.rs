//! The text of `s3squid check` and `s3squid explain`: pure functions of a loaded config (or
//! its error) and the request, so tests read exactly what an operator reads.

use std::fmt::Write as _;

use s3map::config::Config;
use s3map::decide::{decide, Decision, Method, REFUSED_HOST};
use s3map::route::{Auth, Route, RouteTable};
use s3map::url::{RequestUrl, UrlError};

/// `ok: N routes`, the line `check` prints for a valid config.
pub fn check_ok(cfg: &Config) -> String {
    format!("ok: {} routes", cfg.routes.len())
}

fn route_line(out: &mut String, route: &Route) {
    let _ = writeln!(out, "  route:     {} ({})", route.name, route.public);
}

/// What s3squid does with a `method` request for the absolute `url`: not ours, refused
/// (status and reason) or an S3 object (route, bucket, key, unsigned S3 URL, store ID),
/// then the switches in force and what they change for it.
pub fn explain(cfg: &Config, method: &str, url: &str) -> String {
    let table = RouteTable::new(&cfg.routes);
    let mut out = format!("{method} {url}\n");
    let decision = decide(&table, Method::from_token(method), url);
    explain_decision(&mut out, cfg, url, &decision);
    switches(&mut out, cfg, &decision);
    out
}

/// The effect of a switched-off request, as every program sees it.
const LEFT_UNCHANGED: &str = "s3squid-icap answers ICAP 204 and s3squid-rewrite ERR, so the \
     request keeps its public URL: a cached copy is served (s3squid-storeid still gives it the \
     store ID), a miss gets a 5xx, and S3 is not asked";

/// The `switches:` lines of [`explain`]: `pass_through`, and the matched route's `signing`.
fn switches(out: &mut String, cfg: &Config, decision: &Decision<'_, '_>) {
    let route = match decision {
        Decision::NotOurs => None,
        Decision::Refuse(r, _) | Decision::Redirect(r, _, _) => Some(*r),
        Decision::Object(obj) => Some(obj.route),
    };
    let signing = |r: &Route| if r.signing { "on" } else { "off" };
    let mut line = format!("switches:  pass_through = {}", cfg.icap.pass_through);
    if let Some(r) = route {
        let _ = write!(line, "; route {}: signing = \"{}\"", r.name, signing(r));
    }
    let _ = writeln!(out, "{line}");
    let effect = if cfg.icap.pass_through {
        match decision {
            Decision::NotOurs => "  pass_through changes nothing here: the request is not ours.".to_owned(),
            _ => format!("  pass_through = true overrides everything above: {LEFT_UNCHANGED}. Set it to false (or `s3squid revert`) to undo."),
        }
    } else {
        match decision {
            Decision::Object(obj) if !obj.route.signing => format!(
                "  signing = \"off\" overrides the S3 URL above: {LEFT_UNCHANGED}. Set it to \"on\" (or `s3squid revert`) to undo."
            ),
            Decision::Refuse(r, _) | Decision::Redirect(r, _, _) if !r.signing => {
                "  signing = \"off\" changes nothing here: refusals and redirects are answered without S3 anyway.".to_owned()
            }
            _ => "  in force as above; nothing switched off.".to_owned(),
        }
    };
    let _ = writeln!(out, "{effect}");
    out.push_str(
        "  s3squid-icap applies a switch when it reloads the file; the helpers when Squid \
         restarts them (`squid -k reconfigure`).\n",
    );
}

fn explain_decision(out: &mut String, cfg: &Config, url: &str, decision: &Decision<'_, '_>) {
    match decision {
        Decision::NotOurs => not_ours(out, cfg, url),
        Decision::Refuse(route, why) => {
            let status = why.status();
            let reason = http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            let _ = writeln!(
                out,
                "refused: {status} {reason} ({}): {}",
                why.reason(),
                why.message()
            );
            route_line(out, route);
            out.push_str(
                "  s3squid-icap answers with this error itself; S3 never sees the request.\n",
            );
            let _ = writeln!(
                out,
                "  Where s3squid-rewrite maps instead (the rewrite layout, or while s3squid-icap \
                 is bypassed), it rewrites the request to http://{REFUSED_HOST}/{status}, which \
                 squid.conf refuses with 403."
            );
        }
        Decision::Redirect(route, status, location) => {
            let _ = writeln!(out, "redirect: {status} to {location}");
            route_line(out, route);
            out.push_str(
                "  s3squid-icap answers with this redirect itself, and s3squid-rewrite where it \
                 maps instead; S3 never sees the request.\n",
            );
        }
        Decision::Object(obj) => {
            let route = obj.route;
            out.push_str("S3 object\n");
            route_line(out, route);
            let _ = writeln!(out, "  bucket:    {}", route.bucket);
            let _ = writeln!(out, "  key:       {:?}", obj.key);
            if !obj.params.is_empty() {
                let _ = writeln!(out, "  query:     {} (passed to S3)", obj.params.join("&"));
            }
            let signing = match route.auth {
                Auth::SigV4 => format!(
                    "unsigned; s3squid-icap presigns it with SigV4 for region {}",
                    route.region
                ),
                Auth::None => "sent unsigned: auth = \"none\"".to_owned(),
            };
            let _ = writeln!(
                out,
                "  S3 URL:    {} ({signing})",
                route.object_url(&obj.key)
            );
            out.push_str(match route.auth {
                Auth::SigV4 => {
                    "  mapped by: s3squid-icap only. Under the rewrite layout (no s3squid-icap) \
                     it is never signed: s3squid-rewrite leaves it alone and Squid answers 502.\n"
                }
                Auth::None => {
                    "  mapped by: s3squid-icap, or s3squid-rewrite (the rewrite layout, or while \
                     s3squid-icap is bypassed).\n"
                }
            });
            let id = s3map::storeid::for_object(obj);
            let _ = writeln!(out, "  store ID:  {id}");
            freshness_line(out, cfg, route, &id);
        }
    }
}

/// The `freshness:` line: the route's `fresh`/`max_stale` as the rendered `refresh_pattern`
/// lines apply them. A Squid keyed by store IDs uses the line of the route with the longest
/// store-ID prefix of this ID (the first in the file among equals), which is another route's
/// when two routes serve the same objects.
fn freshness_line(out: &mut String, cfg: &Config, route: &Route, id: &str) {
    let set =
        |v: Option<u32>, unit: &str| v.map_or("not set".to_owned(), |v| format!("{v} {unit}"));
    let _ = writeln!(
        out,
        "  freshness: {} (fresh = {}, max_stale = {})",
        crate::squid_conf::describe_freshness(route.freshness),
        set(route.freshness.fresh_minutes, "minutes"),
        set(route.freshness.max_stale_secs, "seconds"),
    );
    // The longest prefix; among equals the first in the file (`rev` + `max_by_key`, which
    // keeps the last maximum), as the rendered lines are ordered.
    let by_id = cfg
        .routes
        .iter()
        .map(|r| (r, s3map::storeid::route_prefix(r)))
        .filter(|(_, prefix)| id.starts_with(prefix.as_str()))
        .rev()
        .max_by_key(|(_, prefix)| prefix.len())
        .map(|(r, _)| r);
    if let Some(other) = by_id.filter(|r| r.name != route.name && r.freshness != route.freshness) {
        let _ = writeln!(
            out,
            "  but a Squid with s3squid-storeid (single, rewrite) keys it by store ID, where route {}'s line applies: {}",
            other.name,
            crate::squid_conf::describe_freshness(other.freshness)
        );
    }
}

fn not_ours(out: &mut String, cfg: &Config, url: &str) {
    let parsed = match RequestUrl::parse(url) {
        Ok(u) => u,
        Err(e) => {
            let why = match e {
                UrlError::NotHttp => "not an absolute http:// or https:// URL",
                UrlError::BadAuthority => "an empty host, user info, a bad port or a fragment",
                UrlError::TooLong => "longer than any URL Squid accepts",
            };
            let _ = writeln!(out, "not ours: {why}.");
            out.push_str(
                "  s3squid-icap leaves such a request alone (ICAP 204); s3squid-rewrite and \
                 s3squid-storeid answer ERR.\n",
            );
            return;
        }
    };
    out.push_str("not ours: no route's public prefix matches this URL.\n");
    out.push_str(
        "  s3squid-icap leaves the request alone (ICAP 204); s3squid-rewrite and \
         s3squid-storeid answer ERR.\n",
    );
    let public_host = cfg.routes.iter().any(|r| {
        r.public.scheme == parsed.scheme
            && r.public.port == parsed.port
            && parsed.host_eq(&r.public.host)
    });
    if public_host {
        out.push_str(
            "  Its host is a public host, so the rendered squid.conf admits it, but no \
             cache_peer serves it: Squid answers 502.\n",
        );
    } else {
        out.push_str(
            "  The rendered squid.conf refuses it (403): its host is not a public host.\n",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use s3map::fixtures::config as cfg;

    #[test]
    fn explains_an_object() {
        let text = explain(
            &cfg(),
            "GET",
            "http://images.example.com/photos/a%20b+c.jpg",
        );
        assert!(text.starts_with("GET http://images.example.com/photos/a%20b+c.jpg\nS3 object\n"));
        assert!(text.contains("route:     photos (http://images.example.com/photos/)"));
        assert!(text.contains("key:       \"a b+c.jpg\""));
        assert!(text.contains("S3 URL:    http://127.0.0.1:9000/photos/a%20b%2Bc.jpg (unsigned; s3squid-icap presigns it with SigV4 for region us-east-1)"));
        assert!(text.contains("Under the rewrite layout (no s3squid-icap) it is never signed"));
        assert!(text.contains(
            "store ID:  http://s3.squid.internal/v1/127.0.0.1:9000/photos/a%20b%2Bc.jpg"
        ));
        let text = explain(&cfg(), "HEAD", "http://cdn.example.com/x?");
        assert!(text.contains(
            "S3 URL:    https://public-bucket.s3.eu-west-1.amazonaws.com/x (sent unsigned"
        ));
        assert!(text.contains("store ID:  http://s3.squid.internal/v1/aws/public-bucket/x"));
        assert!(text.contains("mapped by: s3squid-icap, or s3squid-rewrite"));
        let text = explain(
            &cfg(),
            "GET",
            "http://images.example.com/photos/thumbs/k?versionId=7",
        );
        assert!(text.contains("query:     versionId=7 (passed to S3)"));
        assert!(text.contains(";versionId=7"));
    }

    #[test]
    fn explains_refusals() {
        let text = explain(&cfg(), "PUT", "http://images.example.com/photos/k");
        assert!(text.contains("refused: 405 Method Not Allowed (method)"));
        assert!(text.contains("http://refused.s3squid.invalid/405, which squid.conf refuses"));
        let text = explain(&cfg(), "GET", "http://images.example.com/photos/");
        assert!(text.contains("refused: 403 Forbidden (bucket_root): Listing is not allowed."));
        assert!(text.contains("route:     photos"));
        let text = explain(&cfg(), "GET", "http://images.example.com/photos/%zz");
        assert!(text.contains("refused: 400 Bad Request (bad_escape)"));
    }

    #[test]
    fn explains_what_is_not_ours() {
        let text = explain(&cfg(), "GET", "http://169.254.169.254/latest/meta-data/");
        assert!(text.contains("not ours: no route's public prefix matches"));
        assert!(text.contains("refuses it (403)"));
        let text = explain(&cfg(), "GET", "http://images.example.com/other/x");
        assert!(text.contains("Squid answers 502"));
        let text = explain(&cfg(), "CONNECT", "images.example.com:443");
        assert!(text.contains("not ours: not an absolute http:// or https:// URL."));
    }

    /// The switches in force, and what they change for this URL: a route's
    /// `signing = "off"` for its objects only, `pass_through` for everything of ours.
    #[test]
    fn explains_the_switches() {
        use s3map::fixtures::ROUTES_TOML;
        let photo = "http://images.example.com/photos/a.jpg";
        let text = explain(&cfg(), "GET", photo);
        assert!(text.contains("switches:  pass_through = false; route photos: signing = \"on\"\n  in force as above"), "{text}");

        let off = Config::parse(&ROUTES_TOML.replacen(
            "addressing = \"path\"\n",
            "addressing = \"path\"\nsigning = \"off\"\n",
            1,
        ))
        .unwrap();
        let text = explain(&off, "GET", photo);
        assert!(text.contains("route photos: signing = \"off\"\n  signing = \"off\" overrides the S3 URL above: s3squid-icap answers ICAP 204 and s3squid-rewrite ERR"), "{text}");
        assert!(text.contains("a miss gets a 5xx, and S3 is not asked"));
        let text = explain(&off, "PUT", photo);
        assert!(
            text.contains("signing = \"off\" changes nothing here"),
            "{text}"
        );
        let text = explain(&off, "GET", "http://images.example.com/aws-photos/a.jpg");
        assert!(
            text.contains("route photos-on-aws: signing = \"on\"\n  in force"),
            "{text}"
        );

        let pass = Config::parse(&format!("[icap]\npass_through = true\n{ROUTES_TOML}")).unwrap();
        for (method, url) in [
            ("GET", photo),
            ("PUT", photo),
            ("GET", "http://www.example.com/old.html"),
        ] {
            let text = explain(&pass, method, url);
            assert!(
                text.contains("switches:  pass_through = true; route "),
                "{text}"
            );
            assert!(
                text.contains("pass_through = true overrides everything above"),
                "{text}"
            );
        }
        let text = explain(&pass, "GET", "http://elsewhere.example/x");
        assert!(
            text.contains("switches:  pass_through = true\n  pass_through changes nothing here"),
            "{text}"
        );
        assert!(text.contains("(`squid -k reconfigure`)"));
    }

    #[test]
    fn check_ok_counts_routes() {
        // Problems are printed by s3squid_startup::config_report, tested there.
        assert_eq!(check_ok(&cfg()), "ok: 7 routes");
    }

    /// `freshness:` shows the route's `fresh`/`max_stale`, and says when a Squid keyed by
    /// store IDs applies another route's line to the same object.
    #[test]
    fn explains_the_freshness() {
        let route = |name: &str, public: &str, extra: &str| {
            format!(
                "[[route]]\nname = '{name}'\npublic = '{public}'\nbucket = 'photos'\nregion = 'us-east-1'\nendpoint = 'http://127.0.0.1:9000'\n{extra}\n"
            )
        };
        let c = Config::parse(&format!(
            "{}{}",
            route(
                "photos",
                "http://images.example.com/photos/",
                "fresh = '1d'\nmax_stale = '2h'"
            ),
            route("alias", "http://cdn.example.com/p/", "fresh = '0'")
        ))
        .unwrap();
        let text = explain(&c, "GET", "http://images.example.com/photos/a.jpg");
        assert!(text.contains("  freshness: fresh for 1 day after fetch; then stale up to 2 hours if refresh fails (fresh = 1440 minutes, max_stale = 7200 seconds)\n"), "{text}");
        assert!(!text.contains("route photos's line"), "{text}");
        let text = explain(&c, "GET", "http://cdn.example.com/p/a.jpg");
        assert!(text.contains("  freshness: revalidated on every request; then stale up to 1 week if refresh fails (fresh = 0 minutes, max_stale = not set)\n"), "{text}");
        assert!(
            text.contains("where route photos's line applies: fresh for 1 day after fetch"),
            "{text}"
        );
    }
}
