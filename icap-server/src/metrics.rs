//! Counters and gauges, exported in Prometheus' text format by [`crate::admin`]. Lock-free
//! atomics: the signer is on every cache hit's path.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use s3map::decide::Refusal;

use crate::policy::{Outcome, Unchanged};

/// Upper bounds of the latency histogram, seconds.
pub const LATENCY_BUCKETS: [f64; 10] = [
    1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2,
];

/// Everything the service counts.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Presigned and forwarded.
    pub signed: AtomicU64,
    /// Forwarded unsigned (`auth = "none"` routes).
    pub unsigned: AtomicU64,
    /// Answered with a route's redirect.
    pub redirected: AtomicU64,
    unchanged: [AtomicU64; Unchanged::ALL.len()],
    refused: [AtomicU64; Refusal::ALL.len()],
    latency: [AtomicU64; 11],
    latency_sum_nanos: AtomicU64,
    /// OPTIONS answered.
    pub options: AtomicU64,
    /// Connections closed with an ICAP error (malformed framing).
    pub icap_errors: AtomicU64,
    /// Connections open now.
    pub connections_open: AtomicI64,
    /// Connections refused at the `max_connections` limit.
    pub connections_refused: AtomicU64,
    /// Configuration generation in force (1 at start, +1 per applied reload).
    pub config_generation: AtomicU64,
    /// Reloads applied.
    pub config_reloads: AtomicU64,
    /// Reloads rejected (invalid file); the previous config kept serving.
    pub config_reload_failures: AtomicU64,
    /// Probe rounds completed.
    pub probes: AtomicU64,
}

impl Metrics {
    /// Counts one REQMOD and its decision time.
    pub fn record(&self, outcome: Option<&Outcome>, took: Duration) {
        let c = match outcome {
            Some(Outcome::Adapted { signed: true, .. }) => &self.signed,
            Some(Outcome::Adapted { signed: false, .. }) => &self.unsigned,
            Some(Outcome::Redirect(..)) => &self.redirected,
            Some(Outcome::Refused(r)) => &self.refused[r.index()],
            Some(Outcome::Unchanged(u)) => &self.unchanged[u.index()],
            None => &self.unchanged[Unchanged::NotOurs.index()],
        };
        c.fetch_add(1, Relaxed);
        let secs = took.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|&b| secs <= b)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.latency[bucket].fetch_add(1, Relaxed);
        self.latency_sum_nanos
            .fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    /// Requests left unchanged for `why`.
    pub fn unchanged(&self, why: Unchanged) -> u64 {
        self.unchanged[why.index()].load(Relaxed)
    }

    /// Requests refused for `why`.
    pub fn refused(&self, why: Refusal) -> u64 {
        self.refused[why.index()].load(Relaxed)
    }

    /// Requests answered in the degraded mode (signed routes left unchanged).
    pub fn degraded(&self) -> u64 {
        Unchanged::ALL
            .iter()
            .filter(|u| u.degraded())
            .map(|u| self.unchanged(*u))
            .sum()
    }

    /// The Prometheus text exposition (version 0.0.4), plus `extra` lines.
    pub fn render(&self, extra: &str) -> String {
        let mut o = String::with_capacity(4096);
        let g = |a: &AtomicU64| a.load(Relaxed);
        o.push_str("# HELP s3squid_icap_requests_total REQMOD requests by outcome.\n# TYPE s3squid_icap_requests_total counter\n");
        for (label, v) in [
            ("signed", g(&self.signed)),
            ("unsigned_route", g(&self.unsigned)),
            ("redirect", g(&self.redirected)),
        ] {
            let _ = writeln!(o, "s3squid_icap_requests_total{{outcome=\"{label}\"}} {v}");
        }
        for u in Unchanged::ALL {
            let outcome = if u.degraded() {
                "degraded"
            } else {
                "no_change"
            };
            let _ = writeln!(
                o,
                "s3squid_icap_requests_total{{outcome=\"{outcome}\",reason=\"{}\"}} {}",
                u.label(),
                self.unchanged(u)
            );
        }
        for r in Refusal::ALL {
            let _ = writeln!(
                o,
                "s3squid_icap_requests_total{{outcome=\"refused\",reason=\"{}\"}} {}",
                r.reason(),
                self.refused(r)
            );
        }
        o.push_str("# HELP s3squid_icap_request_duration_seconds Time to decide and encode a REQMOD answer.\n# TYPE s3squid_icap_request_duration_seconds histogram\n");
        let mut cum = 0;
        for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
            cum += g(&self.latency[i]);
            let _ = writeln!(
                o,
                "s3squid_icap_request_duration_seconds_bucket{{le=\"{b}\"}} {cum}"
            );
        }
        cum += g(&self.latency[LATENCY_BUCKETS.len()]);
        let _ = writeln!(
            o,
            "s3squid_icap_request_duration_seconds_bucket{{le=\"+Inf\"}} {cum}"
        );
        let _ = writeln!(
            o,
            "s3squid_icap_request_duration_seconds_sum {}",
            g(&self.latency_sum_nanos) as f64 / 1e9
        );
        let _ = writeln!(o, "s3squid_icap_request_duration_seconds_count {cum}");
        let simple: [(&str, &str, &str, u64); 7] = [
            (
                "s3squid_icap_options_total",
                "counter",
                "OPTIONS requests answered.",
                g(&self.options),
            ),
            (
                "s3squid_icap_errors_total",
                "counter",
                "Malformed ICAP messages answered with an ICAP error.",
                g(&self.icap_errors),
            ),
            (
                "s3squid_icap_connections_refused_total",
                "counter",
                "Connections closed at the max_connections limit.",
                g(&self.connections_refused),
            ),
            (
                "s3squid_icap_config_generation",
                "gauge",
                "Configuration generation in force.",
                g(&self.config_generation),
            ),
            (
                "s3squid_icap_config_reloads_total",
                "counter",
                "Configuration reloads applied.",
                g(&self.config_reloads),
            ),
            (
                "s3squid_icap_config_reload_failures_total",
                "counter",
                "Configuration reloads rejected; the previous one kept serving.",
                g(&self.config_reload_failures),
            ),
            (
                "s3squid_icap_connections_open",
                "gauge",
                "ICAP connections open now.",
                u64::try_from(self.connections_open.load(Relaxed)).unwrap_or(0),
            ),
        ];
        for (name, kind, help, v) in simple {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        }
        o.push_str(extra);
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_own_counter() {
        for (i, u) in Unchanged::ALL.iter().enumerate() {
            assert_eq!(u.index(), i, "{u:?}");
        }
        let m = Metrics::default();
        for r in Refusal::ALL {
            m.record(Some(&Outcome::Refused(r)), Duration::ZERO);
        }
        for r in Refusal::ALL {
            assert_eq!(m.refused(r), 1, "{r:?}");
        }
    }

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.record(
            Some(&Outcome::Refused(Refusal::BadEscape)),
            Duration::from_micros(3),
        );
        m.record(
            Some(&Outcome::Unchanged(Unchanged::NoCredentials)),
            Duration::from_millis(50),
        );
        m.record(
            Some(&Outcome::Adapted {
                url: String::new(),
                host: String::new(),
                signed: true,
            }),
            Duration::from_micros(30),
        );
        let t = m.render("");
        assert!(t.contains(
            "s3squid_icap_requests_total{outcome=\"refused\",reason=\"bad_escape\"} 1\n"
        ));
        assert!(t.contains(
            "s3squid_icap_requests_total{outcome=\"degraded\",reason=\"no_credentials\"} 1\n"
        ));
        assert!(t.contains("s3squid_icap_requests_total{outcome=\"signed\"} 1\n"));
        assert!(
            t.contains("s3squid_icap_request_duration_seconds_bucket{le=\"0.00001\"} 1\n"),
            "{t}"
        );
        assert!(t.contains("s3squid_icap_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert_eq!(m.degraded(), 1);
        for line in t.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
            assert!(name.starts_with("s3squid_icap_"), "{line}");
        }
    }
}
