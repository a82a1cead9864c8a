//! Which answer one REQMOD gets, chosen without I/O: from what the ICAP client offered
//! (`Allow: 204`, a preview), what the policy decided, and the request's method. The
//! connection reads the body only if the chosen answer needs it ([`Answer::needs_body`]),
//! then encodes it with [`Answer::encode`].
//!
//! | policy outcome | answer |
//! |---|---|
//! | no HTTP head, or left unchanged, and the client offered 204 (or previews) | ICAP 204 |
//! | the same, without the offer | the request echoed back (needs the body) |
//! | refused | the HTTP error, by request satisfaction (no body for HEAD) |
//! | a route's redirect | the redirect, by request satisfaction (no body for HEAD) |
//! | an S3 object | the adapted request (S3 URL, its `Host`, the client's safe headers) |
//! | a body over [`crate::limits::MAX_BODY`] that had to be echoed | HTTP 413 |

use s3map::decide::{Method, Refusal};

use crate::framing::http::HttpRequest;
use crate::policy::Outcome;
use crate::respond::{self, ServiceInfo};

/// What the ICAP client allows in answer (from the ICAP head).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offers {
    /// `Allow: 204`.
    pub no_content: bool,
    /// The message is a preview, where 204 is always allowed (RFC 3507 §4.5).
    pub preview: bool,
}

/// The answer to one REQMOD.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer<'a> {
    /// ICAP 204: Squid forwards the request unchanged.
    NoContent,
    /// ICAP 200 with the request echoed back unchanged (and its body, if it has one).
    Echo,
    /// An HTTP error the client reads (ICAP request satisfaction).
    Refusal {
        /// HTTP status.
        status: u16,
        /// The sentence in the body.
        message: &'static str,
        /// A HEAD request: the head alone.
        head_only: bool,
    },
    /// A route's redirect (ICAP request satisfaction).
    Redirect {
        /// HTTP status (301, 302, 303, 307 or 308).
        status: u16,
        /// `Location`.
        location: &'a str,
        /// A HEAD request: the head alone.
        head_only: bool,
    },
    /// The adapted request to send instead.
    Adapted {
        /// The client's request (method, version, headers kept).
        req: &'a HttpRequest<'a>,
        /// The S3 URL.
        url: &'a str,
        /// Its authority, for `Host`.
        host: &'a str,
    },
}

/// The sentence of the 413 answered when a body that had to be echoed is too large.
pub const BODY_TOO_LARGE: &str = "The request body is too large to pass through s3squid-icap.";

impl<'a> Answer<'a> {
    /// Chooses the answer. `decided` is the HTTP request and the policy's outcome for it
    /// (`None`: the message had no HTTP head).
    pub fn choose(offers: Offers, decided: Option<(&'a HttpRequest<'a>, &'a Outcome)>) -> Self {
        let Some((req, outcome)) = decided else {
            return Answer::unchanged(offers);
        };
        let head_only = Method::from_token(req.method) == Some(Method::Head);
        match outcome {
            Outcome::Unchanged(_) => Answer::unchanged(offers),
            Outcome::Refused(why) => Answer::refused(*why, head_only),
            Outcome::Redirect(status, location) => Answer::Redirect {
                status: *status,
                location,
                head_only,
            },
            Outcome::Adapted { url, host, .. } => Answer::Adapted { req, url, host },
        }
    }

    fn unchanged(offers: Offers) -> Self {
        if offers.no_content || offers.preview {
            Answer::NoContent
        } else {
            Answer::Echo
        }
    }

    /// A refusal: the HTTP error the client reads, by request satisfaction (also for a
    /// request refused before any policy could look at it: its head unreadable or too
    /// large).
    pub fn refused(why: Refusal, head_only: bool) -> Self {
        Answer::Refusal {
            status: why.status(),
            message: why.message(),
            head_only,
        }
    }

    /// The answer when the body this answer needed was over the limit.
    pub fn body_too_large() -> Self {
        Answer::Refusal {
            status: 413,
            message: BODY_TOO_LARGE,
            head_only: false,
        }
    }

    /// Whether the encapsulated body must be kept to encode this answer (every other answer
    /// reads it only to stay in step with the framing, and drops it).
    pub fn needs_body(&self) -> bool {
        matches!(self, Answer::Echo)
    }

    /// The ICAP response bytes. `http_head` is the encapsulated HTTP head as received;
    /// `body` the kept body, if [`Answer::needs_body`] and there was one.
    pub fn encode(&self, info: &ServiceInfo, http_head: &[u8], body: Option<&[u8]>) -> Vec<u8> {
        match *self {
            Answer::NoContent => respond::no_content(info),
            Answer::Echo => respond::echo(info, http_head, body),
            Answer::Refusal {
                status,
                message,
                head_only,
            } => respond::refusal(info, status, message, head_only),
            Answer::Redirect {
                status,
                location,
                head_only,
            } => respond::redirect(info, status, location, head_only),
            Answer::Adapted { req, url, host } => respond::adapted(info, req, url, host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Unchanged;

    const OFFERS_204: Offers = Offers {
        no_content: true,
        preview: false,
    };
    const NO_OFFER: Offers = Offers {
        no_content: false,
        preview: false,
    };
    const PREVIEW: Offers = Offers {
        no_content: false,
        preview: true,
    };

    fn req(method: &str) -> HttpRequest<'_> {
        HttpRequest {
            method,
            target: "http://h/p/k",
            version: 1,
            headers: Vec::new(),
        }
    }

    #[test]
    fn unchanged_is_204_when_offered_or_previewing_else_an_echo() {
        let get = req("GET");
        let not_ours = Outcome::Unchanged(Unchanged::NotOurs);
        for (offers, want) in [
            (OFFERS_204, Answer::NoContent),
            (PREVIEW, Answer::NoContent),
            (NO_OFFER, Answer::Echo),
        ] {
            assert_eq!(Answer::choose(offers, None), want);
            assert_eq!(Answer::choose(offers, Some((&get, &not_ours))), want);
        }
        assert!(Answer::Echo.needs_body());
        assert!(!Answer::NoContent.needs_body());
    }

    #[test]
    fn refusals_and_redirects_are_head_only_for_head() {
        let refused = Outcome::Refused(Refusal::Query);
        let moved = Outcome::Redirect(301, "/new".into());
        for (method, head_only) in [("GET", false), ("HEAD", true), ("head", false)] {
            let r = req(method);
            assert_eq!(
                Answer::choose(NO_OFFER, Some((&r, &refused))),
                Answer::Refusal {
                    status: 403,
                    message: Refusal::Query.message(),
                    head_only
                }
            );
            let a = Answer::choose(OFFERS_204, Some((&r, &moved)));
            assert_eq!(
                a,
                Answer::Redirect {
                    status: 301,
                    location: "/new",
                    head_only
                }
            );
            assert!(!a.needs_body());
        }
    }

    #[test]
    fn adapted_whatever_the_offers() {
        let r = req("GET");
        let adapted = Outcome::Adapted {
            url: "http://s3/b/k".into(),
            host: "s3".into(),
            signed: true,
        };
        for offers in [OFFERS_204, NO_OFFER, PREVIEW] {
            let a = Answer::choose(offers, Some((&r, &adapted)));
            assert!(matches!(
                a,
                Answer::Adapted {
                    url: "http://s3/b/k",
                    host: "s3",
                    ..
                }
            ));
            assert!(!a.needs_body());
        }
        assert_eq!(
            Answer::body_too_large(),
            Answer::Refusal {
                status: 413,
                message: BODY_TOO_LARGE,
                head_only: false
            }
        );
    }
}
