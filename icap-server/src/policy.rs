//! What the service does with one HTTP request: a pure function of the request, the
//! route table, the switches, the credentials and the time.

use std::time::{Duration, SystemTime};

use s3map::decide::{decide, Decision, Method, Refusal};
use s3map::presign::presign;
use s3map::route::{Auth, Route, RouteTable};
use s3map::Credentials;

/// Why a request is left unchanged (ICAP 204).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unchanged {
    /// Not under any route, or not an http(s) URL (CONNECT included).
    NotOurs,
    /// The global `pass_through` switch is on.
    PassThrough,
    /// The route's `signing = "off"` switch.
    SigningOff,
    /// Under a `sigv4` route, but there are no valid credentials.
    NoCredentials,
    /// The signer failed (should not happen with a validated config).
    SignFailed,
}

impl Unchanged {
    /// Every reason, in declaration order (metrics index by it).
    pub const ALL: [Unchanged; 5] = [
        Unchanged::NotOurs,
        Unchanged::PassThrough,
        Unchanged::SigningOff,
        Unchanged::NoCredentials,
        Unchanged::SignFailed,
    ];

    /// Its position in [`Unchanged::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether this is a degraded answer for a request s3squid should have adapted: the
    /// request keeps its public URL, hits are served from the store ID, misses end in a
    /// 5xx (docs/design.md#degrading); never forwarded unsigned.
    pub fn degraded(self) -> bool {
        !matches!(self, Unchanged::NotOurs)
    }

    /// Stable label for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            Unchanged::NotOurs => "not_ours",
            Unchanged::PassThrough => "pass_through",
            Unchanged::SigningOff => "signing_off",
            Unchanged::NoCredentials => "no_credentials",
            Unchanged::SignFailed => "sign_failed",
        }
    }
}

/// The decision for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answer ICAP 204 (or echo).
    Unchanged(Unchanged),
    /// Forward this request instead: the S3 URL (presigned for `sigv4` routes) and the
    /// `Host` it needs.
    Adapted {
        /// Absolute S3 URL.
        url: String,
        /// Its authority.
        host: String,
        /// Whether it was presigned (a `sigv4` route) or sent unsigned (`auth = "none"`).
        signed: bool,
    },
    /// Answer the client with an HTTP error (ICAP request satisfaction).
    Refused(Refusal),
    /// Answer the client with a redirect (ICAP request satisfaction): status, `Location`.
    Redirect(u16, String),
}

/// The frozen policy of one configuration generation.
#[derive(Debug)]
pub struct Policy {
    /// The routes.
    pub table: RouteTable,
    /// `X-Amz-Expires` (never beyond the credentials' own expiry).
    pub expires: Duration,
    /// The global pass-through switch.
    pub pass_through: bool,
}

impl Policy {
    /// Decides what to do with `method url` at time `now` (`method`: the request's, `None`
    /// for one s3squid does not forward). `creds` gives the credentials
    /// to sign with (None: no valid credentials); it is called only for a `sigv4` route's
    /// object, not for the requests that need none (not ours, refused, unsigned routes).
    pub fn apply(
        &self,
        method: Option<Method>,
        url: &str,
        creds: impl FnOnce() -> Option<Credentials>,
        now: SystemTime,
    ) -> Outcome {
        if self.pass_through {
            return Outcome::Unchanged(Unchanged::PassThrough);
        }
        let obj = match decide(&self.table, method, url) {
            Decision::NotOurs => return Outcome::Unchanged(Unchanged::NotOurs),
            Decision::Refuse(_, why) => return Outcome::Refused(why),
            Decision::Redirect(_, status, location) => return Outcome::Redirect(status, location),
            Decision::Object(obj) => obj,
        };
        let route = obj.route;
        if !route.signing {
            return Outcome::Unchanged(Unchanged::SigningOff);
        }
        let url = match s3_request_url(route, obj.method, obj.s3_url(), creds, now, self.expires) {
            Ok(u) => u,
            Err(why) => return Outcome::Unchanged(why),
        };
        if url.len() > s3map::limits::MAX_URL_BYTES {
            return Outcome::Refused(Refusal::UrlTooLong);
        }
        Outcome::Adapted {
            url,
            host: route.s3_authority(),
            signed: route.auth == Auth::SigV4,
        }
    }
}

/// The URL to send `method s3_url` to S3 with: as it is under an `auth = "none"` route,
/// presigned for at most `expires` under a `sigv4` route (or why it cannot be). `creds` is
/// called only for a `sigv4` route: reading the credential store is a lock and a clone.
pub fn s3_request_url(
    route: &Route,
    method: Method,
    s3_url: String,
    creds: impl FnOnce() -> Option<Credentials>,
    now: SystemTime,
    expires: Duration,
) -> Result<String, Unchanged> {
    match route.auth {
        Auth::None => Ok(s3_url),
        Auth::SigV4 => {
            let creds = creds().ok_or(Unchanged::NoCredentials)?;
            let lifetime = presign_lifetime(expires, &creds, now);
            presign(method, &s3_url, &route.region, &creds, now, lifetime)
                .map_err(|_| Unchanged::SignFailed)
        }
    }
}

/// The presign lifetime: the configured one, but never beyond the credentials' expiry
/// (a presigned URL stops working when its credentials do). At least one second.
pub fn presign_lifetime(configured: Duration, creds: &Credentials, now: SystemTime) -> Duration {
    match creds.expiry().and_then(|e| e.duration_since(now).ok()) {
        Some(left) => configured.min(left).max(Duration::from_secs(1)),
        None => configured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3map::config::Config;

    fn policy(extra: &str, pass_through: bool) -> Policy {
        let c = Config::parse(&format!(
            "[[route]]\nname='p'\npublic='http://h/p/'\nbucket='photos'\nregion='us-east-1'\nendpoint='http://127.0.0.1:9000'\n{extra}"
        ))
        .unwrap();
        Policy {
            table: RouteTable::new(&c.routes),
            expires: Duration::from_secs(300),
            pass_through,
        }
    }

    fn creds(expiry: Option<SystemTime>) -> Credentials {
        Credentials::new("AKID", "secret", Some("token".into()), expiry, "test")
    }

    #[test]
    fn switches() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_323_045);
        let c = creds(None);
        let on = policy("", false);
        assert!(matches!(
            on.apply(Some(Method::Get), "http://h/p/k", || Some(c.clone()), now),
            Outcome::Adapted { signed: true, .. }
        ));
        assert_eq!(
            on.apply(Some(Method::Get), "http://h/p/k", || None, now),
            Outcome::Unchanged(Unchanged::NoCredentials)
        );
        let off = policy("signing = 'off'", false);
        assert_eq!(
            off.apply(Some(Method::Get), "http://h/p/k", || Some(c.clone()), now),
            Outcome::Unchanged(Unchanged::SigningOff)
        );
        // Policy refusals still apply with signing off: they never reach S3 anyway.
        assert_eq!(
            off.apply(
                Method::from_token("PUT"),
                "http://h/p/k",
                || Some(c.clone()),
                now
            ),
            Outcome::Refused(Refusal::Method)
        );
        let pass = policy("", true);
        assert_eq!(
            pass.apply(
                Method::from_token("PUT"),
                "http://h/p/k",
                || Some(c.clone()),
                now
            ),
            Outcome::Unchanged(Unchanged::PassThrough)
        );
        // An unsigned route never reads the credential store (a lock and a clone).
        let none = policy("auth = 'none'", false);
        let never = || -> Option<Credentials> { panic!("credentials read for auth = none") };
        assert_eq!(
            none.apply(Some(Method::Get), "http://h/p/a b", never, now),
            Outcome::Adapted {
                url: "http://127.0.0.1:9000/photos/a%20b".into(),
                host: "127.0.0.1:9000".into(),
                signed: false
            }
        );
    }

    #[test]
    fn adapted_urls_over_squids_limit_are_refused() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_323_045);
        let p = policy("", false);
        // A 1000-byte key of escaped bytes (3000 encoded) and a 5000-byte session token.
        let key = "%C3%A9".repeat(500);
        let big = Credentials::new("AKID", "secret", Some("t".repeat(5000)), None, "test");
        let out = p.apply(
            Some(Method::Get),
            &format!("http://h/p/{key}"),
            || Some(big.clone()),
            now,
        );
        assert_eq!(out, Outcome::Refused(Refusal::UrlTooLong));
        assert_eq!(Refusal::UrlTooLong.status(), 400);
        let small = creds(None);
        assert!(matches!(
            p.apply(
                Some(Method::Get),
                &format!("http://h/p/{key}"),
                || Some(small.clone()),
                now
            ),
            Outcome::Adapted { .. }
        ));
    }

    #[test]
    fn presign_never_outlives_credentials() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_323_045);
        let five = Duration::from_secs(300);
        assert_eq!(presign_lifetime(five, &creds(None), now), five);
        assert_eq!(
            presign_lifetime(five, &creds(Some(now + Duration::from_secs(42))), now),
            Duration::from_secs(42)
        );
        assert_eq!(
            presign_lifetime(five, &creds(Some(now + Duration::from_secs(3600))), now),
            five
        );
        // Expired credentials are never handed to the policy (the credential store drops
        // them); the lifetime function itself leaves the configured value.
        assert_eq!(
            presign_lifetime(five, &creds(Some(now - Duration::from_secs(1))), now),
            five
        );
        let p = policy("", false);
        let Outcome::Adapted { url, .. } = p.apply(
            Some(Method::Get),
            "http://h/p/k",
            || Some(creds(Some(now + Duration::from_secs(42)))),
            now,
        ) else {
            panic!()
        };
        assert!(url.contains("X-Amz-Expires=42&"), "{url}");
    }
}
