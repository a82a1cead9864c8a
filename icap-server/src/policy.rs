//! What the service does with one HTTP request: a pure function of the request, the route
//! table, the credentials and the time.

use std::time::{Duration, SystemTime};

use s3map::decide::{decide, Decision, Method, Refusal};
use s3map::presign::presign;
use s3map::route::{Auth, RouteTable};
use s3map::Credentials;

/// Why a request is left unchanged (ICAP 204).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unchanged {
    /// Not under any route, or not an http(s) URL (CONNECT included).
    NotOurs,
    /// Under a `sigv4` route, but there are no credentials. The request keeps its public
    /// URL: hits are served from the store ID, misses end in a 5xx (DESIGN "Degrading
    /// safely"). Never forwarded unsigned.
    NoCredentials,
    /// The signer failed (should not happen with a validated config).
    SignFailed,
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
        /// The route's name.
        route: String,
    },
    /// Answer the client with an HTTP error (ICAP request satisfaction).
    Refused(Refusal),
    /// Answer the client with a redirect (ICAP request satisfaction): status, `Location`.
    Redirect(u16, String),
}

/// The frozen state the policy needs.
#[derive(Debug)]
pub struct Policy {
    /// The routes.
    pub table: RouteTable,
    /// Credentials, if any were found.
    pub creds: Option<Credentials>,
    /// `X-Amz-Expires`.
    pub expires: Duration,
}

impl Policy {
    /// Decides what to do with `method url` at time `now`.
    pub fn apply(&self, method: &str, url: &str, now: SystemTime) -> Outcome {
        let obj = match decide(&self.table, method, url) {
            Decision::NotOurs => return Outcome::Unchanged(Unchanged::NotOurs),
            Decision::Refuse(_, why) => return Outcome::Refused(why),
            Decision::Redirect(_, status, location) => return Outcome::Redirect(status, location),
            Decision::Object(obj) => obj,
        };
        let route = obj.route;
        let mut s3 = route.object_url(&obj.key);
        if !obj.params.is_empty() {
            s3.push('?');
            s3.push_str(&obj.params.join("&"));
        }
        let url = match route.auth {
            Auth::None => s3,
            Auth::SigV4 => {
                let Some(creds) = &self.creds else {
                    return Outcome::Unchanged(Unchanged::NoCredentials);
                };
                let m = if method == "HEAD" {
                    Method::Head
                } else {
                    Method::Get
                };
                match presign(m, &s3, &route.region, creds, now, self.expires) {
                    Ok(u) => u,
                    Err(_) => return Outcome::Unchanged(Unchanged::SignFailed),
                }
            }
        };
        if url.len() > s3map::limits::MAX_URL_BYTES {
            return Outcome::Refused(Refusal::UrlTooLong);
        }
        Outcome::Adapted {
            url,
            host: route.s3_authority(),
            route: route.name.clone(),
        }
    }
}
