//! Credentials: the AWS default chain (environment, shared credentials file and profile,
//! web identity, ECS container endpoint, EC2 IMDSv2) via `aws-config`, fetched and
//! refreshed by one background task.
//!
//! - Requests never wait for a fetch: they sign with what [`Service::credentials`] holds.
//! - One refresh at a time, ahead of expiry (5 minutes, or half the remaining lifetime if
//!   shorter); credentials without an expiry are re-read every [`STATIC_REREAD`].
//! - During a provider outage the last good credentials are used until they expire; then
//!   signed routes degrade (ICAP 204: hits and stale copies served, misses 5xx), counted
//!   and visible in `/metrics`, while `auth = "none"` routes go on.
//! - Presigned URLs never outlive the credentials (see [`crate::policy::presign_lifetime`]).
//! - Nothing here logs a secret: only the provider name and the expiry.

use std::borrow::Cow;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use prometheus_client::metrics::MetricType;

use crate::admin::ScrapeSource;
use crate::metrics::{Family, Value};
use crate::service::Service;

/// How long one fetch from the chain may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// Refresh this long before expiry (or at half the remaining lifetime, if shorter).
pub const REFRESH_AHEAD: Duration = Duration::from_secs(300);
/// Credentials without an expiry (environment, profile keys) are re-read this often.
pub const STATIC_REREAD: Duration = Duration::from_secs(900);
/// Longest wait between retries after a failed fetch.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// When to fetch again after a success at `now`.
pub fn next_refresh(now: SystemTime, expiry: Option<SystemTime>) -> Duration {
    match expiry {
        None => STATIC_REREAD,
        Some(e) => {
            let left = e.duration_since(now).unwrap_or_default();
            let ahead = REFRESH_AHEAD.min(left / 2);
            (left - ahead).max(Duration::from_secs(1))
        }
    }
}

/// The credential refresher: the background task's state (where the credentials held came
/// from, how many fetches succeeded and failed, when they expire), for `/metrics` and
/// `/healthz`. The credentials themselves are in [`Service`].
pub struct Refresher {
    svc: Arc<Service>,
    source: Mutex<String>,
    refreshes: AtomicU64,
    failures: AtomicU64,
    /// Unix seconds of expiry; -1 none; -2 no credentials.
    expiry: AtomicI64,
}

impl Refresher {
    /// Builds the default chain and starts the refresher; returns at once.
    pub async fn start(svc: Arc<Service>) -> Arc<Refresher> {
        let chain = aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
            .build()
            .await;
        let me = Arc::new(Refresher {
            svc,
            source: Mutex::new("none".to_owned()),
            refreshes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            expiry: AtomicI64::new(-2),
        });
        tokio::spawn(me.clone().refresh_loop(chain));
        me
    }

    async fn refresh_loop(self: Arc<Self>, provider: impl ProvideCredentials) {
        let mut backoff = Duration::from_secs(1);
        loop {
            let fetched = tokio::time::timeout(FETCH_TIMEOUT, provider.provide_credentials()).await;
            let now = SystemTime::now();
            let wait = match fetched {
                Ok(Ok(c)) => {
                    let expiry = c.expiry();
                    let first = self.refreshes.fetch_add(1, Relaxed) == 0;
                    let name = source_of(&c).to_owned();
                    self.svc.set_credentials(Some(c));
                    self.expiry.store(expiry.map_or(-1, unix), Relaxed);
                    let changed = match self.source.lock() {
                        Ok(mut s) => std::mem::replace(&mut *s, name.clone()) != name,
                        Err(_) => false,
                    };
                    if first || changed {
                        log::info!(
                            "credentials: {name}, expiry {}",
                            expiry.map_or("none".to_owned(), |e| format!(
                                "in {}s",
                                e.duration_since(now).unwrap_or_default().as_secs()
                            ))
                        );
                    }
                    backoff = Duration::from_secs(1);
                    next_refresh(now, expiry)
                }
                Ok(Err(e)) => self.failed(&error_chain(&e), &mut backoff),
                Err(_) => self.failed("timed out", &mut backoff),
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn failed(&self, why: &str, backoff: &mut Duration) -> Duration {
        let n = self.failures.fetch_add(1, Relaxed) + 1;
        let valid = self.svc.credentials(SystemTime::now()).is_some();
        if !valid {
            self.expiry.store(-2, Relaxed);
        }
        let what = if valid {
            "still signing with the last good credentials until they expire"
        } else {
            "signed routes are degraded (204) until credentials return"
        };
        // One line per failure while backing off (at most one every MAX_BACKOFF).
        log::warn!(
            "credentials refresh failed ({n} so far): {why}; {what}; retrying in {}s",
            backoff.as_secs()
        );
        let wait = *backoff;
        *backoff = (*backoff * 2).min(MAX_BACKOFF);
        wait
    }
}

/// Which link of the chain produced `c` (from the features aws-config records).
pub fn source_of(c: &aws_credential_types::Credentials) -> &'static str {
    use aws_credential_types::credential_feature::AwsCredentialFeature as F;
    let Some(features) = c.get_property::<Vec<F>>() else {
        return "other";
    };
    let mut source = "other";
    for f in features {
        source = match f {
            F::CredentialsEnvVars => "environment",
            F::CredentialsEnvVarsStsWebIdToken
            | F::CredentialsStsAssumeRoleWebId
            | F::CredentialsProfileStsWebIdToken => "web_identity",
            F::CredentialsHttp => "ecs_container",
            F::CredentialsImds => "imds",
            F::CredentialsProfile
            | F::CredentialsProfileSourceProfile
            | F::CredentialsProfileNamedProvider => "profile",
            F::CredentialsProcess | F::CredentialsProfileProcess => "process",
            F::CredentialsSso | F::CredentialsProfileSso => "sso",
            _ => continue,
        };
    }
    source
}

/// An error and its sources, one line (the SDK's top-level messages say little).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// Seconds since the Unix epoch, negative before it.
pub(crate) fn unix(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

impl ScrapeSource for Refresher {
    fn metrics(&self) -> Vec<Family> {
        let now = SystemTime::now();
        let valid = self.svc.credentials(now).is_some();
        let source = self.source.lock().map(|s| s.clone()).unwrap_or_default();
        let expiry = self.expiry.load(Relaxed);
        let left = if expiry >= 0 {
            expiry - unix(now)
        } else {
            expiry
        };
        vec![
            Family::gauge(
                "s3squid_icap_credentials_valid",
                "Whether valid credentials are held (0: signed routes degraded).",
                Value::Int(i64::from(valid)),
            ),
            Family::labelled(
                "s3squid_icap_credentials_source",
                "The provider of the credentials held.",
                MetricType::Gauge,
                vec![(vec![("source", Cow::Owned(source))], Value::Int(1))],
            ),
            Family::gauge(
                "s3squid_icap_credentials_expiry_seconds",
                "Seconds until the credentials expire (-1: no expiry, -2: none).",
                Value::Int(left),
            ),
            Family::counter(
                "s3squid_icap_credentials_refreshes_total",
                "Successful fetches from the credential chain.",
                self.refreshes.load(Relaxed),
            ),
            Family::counter(
                "s3squid_icap_credentials_refresh_failures_total",
                "Failed fetches from the credential chain.",
                self.failures.load(Relaxed),
            ),
        ]
    }

    fn health(&self) -> String {
        let valid = self.svc.credentials(SystemTime::now()).is_some();
        let source = self.source.lock().map(|s| s.clone()).unwrap_or_default();
        format!(
            "credentials {} ({source})\n",
            if valid {
                "valid"
            } else {
                "missing: signed routes degraded"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_ahead_of_expiry() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(next_refresh(now, None), STATIC_REREAD);
        assert_eq!(
            next_refresh(now, Some(now + Duration::from_secs(3600))),
            Duration::from_secs(3300)
        );
        assert_eq!(
            next_refresh(now, Some(now + Duration::from_secs(60))),
            Duration::from_secs(30)
        );
        assert_eq!(
            next_refresh(now, Some(now + Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        assert_eq!(
            next_refresh(now, Some(now - Duration::from_secs(5))),
            Duration::from_secs(1)
        );
    }

    /// Names, labels, HELP text and values as the hand-formatted version wrote them
    /// (`testdata/credentials.prom`).
    #[test]
    fn exposition_is_unchanged() {
        let config = s3map::config::Config::parse(
            "[icap]\nlisten = \"127.0.0.1:0\"\n\n[[route]]\nname = \"photos\"\npublic = \"http://images.example.com/photos/\"\nbucket = \"photos\"\nregion = \"us-east-1\"\nendpoint = \"http://127.0.0.1:9000\"\naddressing = \"path\"\n",
        )
        .expect("config");
        let refresher = Refresher {
            svc: Arc::new(Service::new(&config, None)),
            source: Mutex::new("none".to_owned()),
            refreshes: AtomicU64::new(5),
            failures: AtomicU64::new(3),
            expiry: AtomicI64::new(-2),
        };
        let text = crate::metrics::Scrape(refresher.metrics()).encode();
        assert_eq!(text, include_str!("../testdata/credentials.prom"));
    }
}
