//! The active probe: every `probe_interval` seconds, for each route with a `probe_key`, a
//! HEAD for that key — presigned like any request for `sigv4` routes — reports whether the
//! endpoint is reachable, whether S3 accepts the signature, and how far S3's clock (its
//! `Date` header) is from ours. Results are exported in `/metrics` and `/healthz`.

use std::borrow::Cow;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use prometheus_client::metrics::MetricType;
use s3map::decide::Method;

use crate::admin::ScrapeSource;
use crate::metrics::{Family, Value};
use crate::policy::s3_request_url;
use crate::service::Service;

/// How long one probe request may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// One route's last probe.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeResult {
    /// The route probed.
    pub route: String,
    /// An HTTP answer came back.
    pub up: bool,
    /// S3 accepted the request's authentication (2xx, or 404 for a missing key).
    pub signature_ok: bool,
    /// The HTTP status (0: no answer; -1: not probed, no credentials).
    pub status: i32,
    /// S3's `Date` minus our clock, seconds (0 when unknown).
    pub clock_offset_secs: i64,
    /// How long the request took.
    pub took: Duration,
}

/// The probe results, shared with `/metrics`.
#[derive(Default)]
pub struct Probes {
    results: Mutex<Vec<ProbeResult>>,
}

impl Probes {
    /// The last results.
    pub fn results(&self) -> Vec<ProbeResult> {
        self.results.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Probes forever (until the task is dropped) at the interval of the configuration in
    /// force; interval 0 pauses probing.
    pub async fn run(self: Arc<Self>, svc: Arc<Service>) {
        let client = match reqwest::Client::builder()
            .timeout(PROBE_TIMEOUT)
            .no_proxy()
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                log::error!("probe disabled: cannot build an HTTP client: {e}");
                return;
            }
        };
        loop {
            let st = svc.state();
            let interval = st.probe_interval;
            if interval.is_zero() {
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
            let mut out = Vec::new();
            for route in st.policy.table.routes().iter() {
                let Some(key) = &route.probe_key else {
                    continue;
                };
                let now = SystemTime::now();
                let url = match s3_request_url(
                    route,
                    Method::Head,
                    route.object_url(key),
                    || svc.credentials(now),
                    now,
                    Duration::from_secs(60),
                ) {
                    Ok(u) => u,
                    // Nothing to sign with (or the signer failed): reported, not skipped.
                    Err(_) => {
                        out.push(ProbeResult {
                            route: route.name.clone(),
                            up: false,
                            signature_ok: false,
                            status: -1,
                            clock_offset_secs: 0,
                            took: Duration::ZERO,
                        });
                        continue;
                    }
                };
                out.push(probe_one(&client, &route.name, &url).await);
            }
            for r in &out {
                if !r.up || !r.signature_ok || r.clock_offset_secs.abs() > 60 {
                    log::warn!(
                        "probe {}: up={} signature_ok={} status={} clock_offset={}s",
                        r.route,
                        r.up,
                        r.signature_ok,
                        r.status,
                        r.clock_offset_secs
                    );
                } else {
                    log::debug!(
                        "probe {}: ok in {:?}, clock offset {}s",
                        r.route,
                        r.took,
                        r.clock_offset_secs
                    );
                }
            }
            if let Ok(mut g) = self.results.lock() {
                *g = out;
            }
            svc.metrics.probes.fetch_add(1, Relaxed);
            tokio::time::sleep(interval).await;
        }
    }
}

async fn probe_one(client: &reqwest::Client, route: &str, url: &str) -> ProbeResult {
    let t0 = Instant::now();
    let sent = SystemTime::now();
    match client.head(url).send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let offset = resp
                .headers()
                .get("date")
                .and_then(|d| d.to_str().ok())
                .and_then(parse_http_date)
                .map(|t| crate::creds::unix(t) - crate::creds::unix(sent + t0.elapsed() / 2))
                .unwrap_or(0);
            ProbeResult {
                route: route.to_owned(),
                up: true,
                signature_ok: (200..300).contains(&status) || status == 404,
                status: i32::from(status),
                clock_offset_secs: offset,
                took: t0.elapsed(),
            }
        }
        Err(_) => ProbeResult {
            route: route.to_owned(),
            up: false,
            signature_ok: false,
            status: 0,
            clock_offset_secs: 0,
            took: t0.elapsed(),
        },
    }
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7), S3's `Date`.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    use aws_smithy_types::date_time::{DateTime, Format};
    SystemTime::try_from(DateTime::from_str(s, Format::HttpDate).ok()?).ok()
}

impl ScrapeSource for Probes {
    fn metrics(&self) -> Vec<Family> {
        let rs = self.results();
        let family = |name, help, value: fn(&ProbeResult) -> Value| {
            let series = rs
                .iter()
                .map(|r| (vec![("route", Cow::Owned(r.route.clone()))], value(r)))
                .collect();
            Family::labelled(name, help, MetricType::Gauge, series)
        };
        vec![
            family(
                "s3squid_icap_probe_up",
                "Whether the route's endpoint answered the last probe.",
                |r| Value::Int(i64::from(r.up)),
            ),
            family(
                "s3squid_icap_probe_signature_ok",
                "Whether S3 accepted the last probe's signature.",
                |r| Value::Int(i64::from(r.signature_ok)),
            ),
            family(
                "s3squid_icap_probe_status",
                "HTTP status of the last probe (0: no answer, -1: no credentials).",
                |r| Value::Int(i64::from(r.status)),
            ),
            family(
                "s3squid_icap_probe_clock_offset_seconds",
                "S3's Date minus the local clock at the last probe.",
                |r| Value::Int(r.clock_offset_secs),
            ),
            family(
                "s3squid_icap_probe_duration_seconds",
                "How long the last probe took.",
                |r| Value::Float(r.took.as_secs_f64()),
            ),
        ]
    }

    fn health(&self) -> String {
        self.results()
            .iter()
            .map(|r| {
                format!(
                    "probe {}: up={} signature_ok={} status={} clock_offset={}s\n",
                    r.route, r.up, r.signature_ok, r.status, r.clock_offset_secs
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        let t = parse_http_date("Fri, 02 Jan 2026 03:04:05 GMT").unwrap();
        assert_eq!(
            t,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_323_045)
        );
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        for bad in [
            "",
            "Fri, 02 Jan 2026 03:04:05 UTC",
            "02 Jan 2026",
            "Fri, 32 Jan 2026 03:04:05 GMT",
            "Fri, 02 Foo 2026 03:04:05 GMT",
            "Fri, 02 Jan 2026 25:04:05 GMT",
            "Fri, 02 Jan 2026 03:04 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    /// Names, labels, HELP text and values as before prometheus-client wrote them
    /// (`testdata/probes.prom`, rendered by the hand-formatted version); the one difference
    /// is spelling, not value: a duration of exactly 0 is written `0.0`, no longer `0`.
    #[test]
    fn exposition_is_unchanged() {
        let p = Probes::default();
        let result = |route: &str, up, signature_ok, status, clock_offset_secs, took| ProbeResult {
            route: route.to_owned(),
            up,
            signature_ok,
            status,
            clock_offset_secs,
            took,
        };
        if let Ok(mut r) = p.results.lock() {
            *r = vec![
                result("photos", true, true, 200, -3, Duration::from_micros(12345)),
                result("docs", false, false, -1, 0, Duration::ZERO),
                result("slow", true, false, 403, 75, Duration::from_nanos(15_000)),
            ];
        }
        let text = crate::metrics::Scrape(p.metrics()).encode();
        assert_eq!(text, include_str!("../testdata/probes.prom"));
    }
}
