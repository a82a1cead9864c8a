//! Counters and gauges, exported in Prometheus' text format by [`crate::admin`]. Lock-free
//! atomics: [`Metrics::record`] is on every cache hit's path. At scrape time the values are
//! read into [`Family`]s, which prometheus-client encodes (every family but the latency
//! histogram, see [`Metrics::render`]).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{prometheus_text, DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
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

    /// The Prometheus text exposition (version 0.0.4), plus `extra` lines (the
    /// [`crate::admin::ScrapeSource`]s' families, encoded by [`Scrape::encode`]).
    pub fn render(&self, extra: &str) -> String {
        let g = |a: &AtomicU64| a.load(Relaxed);
        let outcome = |o: &'static str| vec![("outcome", Cow::Borrowed(o))];
        let mut requests = vec![
            (outcome("signed"), Value::Count(g(&self.signed))),
            (outcome("unsigned_route"), Value::Count(g(&self.unsigned))),
            (outcome("redirect"), Value::Count(g(&self.redirected))),
        ];
        for u in Unchanged::ALL {
            let mut labels = outcome(if u.degraded() {
                "degraded"
            } else {
                "no_change"
            });
            labels.push(("reason", Cow::Borrowed(u.label())));
            requests.push((labels, Value::Count(self.unchanged(u))));
        }
        for r in Refusal::ALL {
            let mut labels = outcome("refused");
            labels.push(("reason", Cow::Borrowed(r.reason())));
            requests.push((labels, Value::Count(self.refused(r))));
        }
        let mut o = Scrape(vec![Family::labelled(
            "s3squid_icap_requests_total",
            "REQMOD requests by outcome.",
            MetricType::Counter,
            requests,
        )])
        .encode();
        self.render_latency(&mut o);
        let open = self.connections_open.load(Relaxed).max(0);
        let generation = i64::try_from(g(&self.config_generation)).unwrap_or(i64::MAX);
        o.push_str(
            &Scrape(vec![
                Family::counter(
                    "s3squid_icap_options_total",
                    "OPTIONS requests answered.",
                    g(&self.options),
                ),
                Family::counter(
                    "s3squid_icap_errors_total",
                    "Malformed ICAP messages answered with an ICAP error.",
                    g(&self.icap_errors),
                ),
                Family::counter(
                    "s3squid_icap_connections_refused_total",
                    "Connections closed at the max_connections limit.",
                    g(&self.connections_refused),
                ),
                Family::gauge(
                    "s3squid_icap_config_generation",
                    "Configuration generation in force.",
                    Value::Int(generation),
                ),
                Family::counter(
                    "s3squid_icap_config_reloads_total",
                    "Configuration reloads applied.",
                    g(&self.config_reloads),
                ),
                Family::counter(
                    "s3squid_icap_config_reload_failures_total",
                    "Configuration reloads rejected; the previous one kept serving.",
                    g(&self.config_reload_failures),
                ),
                Family::gauge(
                    "s3squid_icap_connections_open",
                    "ICAP connections open now.",
                    Value::Int(open),
                ),
            ])
            .encode(),
        );
        o.push_str(extra);
        o
    }

    /// The latency histogram, written by hand: prometheus-client writes a bucket's `le` the
    /// way Go does (`1e-05`), which would rename the series exposed as `le="0.00001"`.
    fn render_latency(&self, o: &mut String) {
        let g = |a: &AtomicU64| a.load(Relaxed);
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
    }
}

/// A sample's value, read at scrape time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A count.
    Count(u64),
    /// A signed integer.
    Int(i64),
    /// Seconds, or any fraction.
    Float(f64),
}

/// Label names and values of one series.
pub type Labels = Vec<(&'static str, Cow<'static, str>)>;

/// One metric family as read at scrape time: its `# HELP`/`# TYPE` lines and its series.
#[derive(Debug, Clone)]
pub struct Family {
    /// The name as exposed (a counter's ends in `_total`).
    pub name: &'static str,
    /// The `# HELP` text.
    pub help: &'static str,
    /// Counter or gauge.
    pub kind: MetricType,
    /// Each series' labels and value.
    pub series: Vec<(Labels, Value)>,
}

impl Family {
    /// A counter of one series.
    pub fn counter(name: &'static str, help: &'static str, v: u64) -> Family {
        Family::labelled(
            name,
            help,
            MetricType::Counter,
            vec![(vec![], Value::Count(v))],
        )
    }

    /// A gauge of one series.
    pub fn gauge(name: &'static str, help: &'static str, v: Value) -> Family {
        Family::labelled(name, help, MetricType::Gauge, vec![(vec![], v)])
    }

    /// A family of labelled series (none is fine: the `# HELP`/`# TYPE` lines stay).
    pub fn labelled(
        name: &'static str,
        help: &'static str,
        kind: MetricType,
        series: Vec<(Labels, Value)>,
    ) -> Family {
        Family {
            name,
            help,
            kind,
            series,
        }
    }
}

/// One scrape's families, encoded by prometheus-client (the `# HELP`/`# TYPE` lines, names
/// and escaped label values) in the Prometheus text format, version 0.0.4.
#[derive(Debug, Default)]
pub struct Scrape(pub Vec<Family>);

impl Scrape {
    /// The exposition text.
    pub fn encode(self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self));
        let mut out = String::with_capacity(2048);
        // Writing into a String cannot fail, and nothing here returns an error of its own.
        let _ = prometheus_text::encode(&mut out, &registry);
        out
    }
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        for f in &self.0 {
            // prometheus-client appends a counter's `_total` itself.
            let name = match f.kind {
                MetricType::Counter => f.name.strip_suffix("_total").unwrap_or(f.name),
                _ => f.name,
            };
            let mut family = encoder.encode_descriptor(name, f.help, None, f.kind)?;
            for (labels, v) in &f.series {
                // No labels, no braces.
                let m = family.encode_family(labels)?;
                match (f.kind, *v) {
                    (MetricType::Counter, Value::Count(v)) => ConstCounter::new(v).encode(m)?,
                    (MetricType::Counter, Value::Int(v)) => {
                        ConstCounter::new(u64::try_from(v).unwrap_or(0)).encode(m)?
                    }
                    (MetricType::Counter, Value::Float(v)) => ConstCounter::new(v).encode(m)?,
                    (_, Value::Count(v)) => ConstGauge::new(v).encode(m)?,
                    (_, Value::Int(v)) => ConstGauge::new(v).encode(m)?,
                    (_, Value::Float(v)) => ConstGauge::new(v).encode(m)?,
                }
            }
        }
        Ok(())
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

    /// The exposition is what it was before prometheus-client wrote it, byte for byte
    /// (`testdata/metrics.prom` was rendered by the hand-formatted version).
    #[test]
    fn exposition_is_unchanged() {
        let m = Metrics::default();
        for (outcome, micros) in [
            (Some(Outcome::Refused(Refusal::BadEscape)), 3),
            (Some(Outcome::Unchanged(Unchanged::NoCredentials)), 50_000),
            (
                Some(Outcome::Adapted {
                    url: String::new(),
                    host: String::new(),
                    signed: true,
                }),
                30,
            ),
            (None, 120),
            (Some(Outcome::Redirect(301, String::new())), 7),
        ] {
            m.record(outcome.as_ref(), Duration::from_micros(micros));
        }
        m.options.fetch_add(4, Relaxed);
        m.icap_errors.fetch_add(2, Relaxed);
        m.connections_open.fetch_add(3, Relaxed);
        m.config_generation.store(7, Relaxed);
        m.config_reloads.fetch_add(6, Relaxed);
        assert_eq!(m.render(""), include_str!("../testdata/metrics.prom"));
    }
}
