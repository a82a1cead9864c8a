//! What it measures: the per-REQMOD work that is not I/O and not signing — recognising the
//! ICAP head ([`parse_head`] over Squid 5.7's heads: request line, header lines and the
//! `Encapsulated` list), walking chunked bodies ([`Decoder::feed`]: chunk-size lines with
//! and without extensions, `ieof`), and counting the outcome ([`Metrics::record`], atomics).
//! Each group prints the median of [`ROUNDS`] timed rounds, in nanoseconds per operation.
//!
//! How to run: `cargo bench -p s3squid-icap --bench framing` (release build, no harness);
//! `-- head` (or `chunked`, `record`) runs one group. For an A/B comparison of two builds,
//! copy each build's binary (`target/release/deps/framing-*`, printed by `cargo bench
//! --no-run`) aside and run them alternately for several rounds on the same machine, e.g.
//! `for i in 1 2 3 4 5 6 7; do ./framing-a --bench; ./framing-b --bench; done`, then
//! compare the medians of the medians: single runs on a shared box drift by several percent.
//! For exact instruction counts instead, run one group under callgrind with fewer
//! operations: `FRAMING_OPS=200 valgrind --tool=callgrind ./framing-a head`; the total
//! divided by the calls made, `(FRAMING_OPS / 10 + 15 × FRAMING_OPS) × inputs`, is the
//! cost of one call (the loop around it adds a few instructions).
//!
//! `Decoder::feed` runs in discard mode (`Decoder::new(false)`), as the connection runs it
//! for bodies it never needs, so the group measures framing and not a `Vec` copy.

use std::hint::black_box;
use std::time::{Duration, Instant};

use s3map::decide::Refusal;
use s3squid_icap::framing::chunked::Decoder;
use s3squid_icap::framing::wire::{parse_head, Status};
use s3squid_icap::metrics::Metrics;
use s3squid_icap::policy::{Outcome, Unchanged};

/// Timed rounds per group; the median is printed.
const ROUNDS: usize = 15;
/// Operations per timed round (each operation is one pass over a group's whole input set),
/// unless `FRAMING_OPS` says otherwise (a few hundred are enough under callgrind).
const OPS: usize = 20_000;

/// ICAP heads as Squid 5.7 sends them (REQMOD for a GET, with and without a body, with a
/// preview, and the OPTIONS probe), plus one with every header a client may add.
const HEADS: [&[u8]; 5] = [
    b"REQMOD icap://127.0.0.1:1344/s3sign ICAP/1.0\r\nHost: 127.0.0.1:1344\r\nDate: Thu, 01 Aug 2024 10:00:00 GMT\r\nEncapsulated: req-hdr=0, null-body=412\r\nPreview: 0\r\nAllow: 204, trailers\r\nX-Client-IP: 127.0.0.1\r\n\r\n",
    b"REQMOD icap://127.0.0.1:1344/s3sign ICAP/1.0\r\nHost: 127.0.0.1:1344\r\nDate: Thu, 01 Aug 2024 10:00:00 GMT\r\nEncapsulated: req-hdr=0, null-body=155\r\nAllow: 204, trailers\r\n\r\n",
    b"REQMOD icap://127.0.0.1:1344/s3sign ICAP/1.0\r\nHost: 127.0.0.1:1344\r\nDate: Thu, 01 Aug 2024 10:00:01 GMT\r\nEncapsulated: req-hdr=0, req-body=297\r\nPreview: 0\r\nAllow: 204, trailers\r\nX-Client-IP: 10.1.2.3\r\n\r\n",
    b"OPTIONS icap://127.0.0.1:1344/s3sign ICAP/1.0\r\nHost: 127.0.0.1:1344\r\nAllow: 206, trailers\r\n\r\n",
    b"REQMOD icap://icap.internal:1344/s3sign ICAP/1.0\r\nHost: icap.internal:1344\r\nDate: Thu, 01 Aug 2024 10:00:02 GMT\r\nEncapsulated: req-hdr=0, null-body=1380\r\nPreview: 0\r\nAllow: 204, trailers\r\nX-Client-IP: 2001:db8::17\r\nX-Client-Username: -\r\nX-Authenticated-User: -\r\nConnection: keep-alive\r\n\r\n",
];

/// Chunked bodies: Squid's `0; ieof` preview end, a small form body, a body in several
/// chunks with extensions and a trailer, and a 16 KiB body in 4 KiB chunks.
fn bodies() -> Vec<Vec<u8>> {
    let mut large = Vec::new();
    for _ in 0..4 {
        large.extend_from_slice(b"1000\r\n");
        large.extend(std::iter::repeat_n(b'x', 0x1000));
        large.extend_from_slice(b"\r\n");
    }
    large.extend_from_slice(b"0\r\n\r\n");
    vec![
        b"0; ieof\r\n\r\n".to_vec(),
        b"18\r\nname=photo.jpg&size=1024\r\n0\r\n\r\n".to_vec(),
        b"a\r\n0123456789\r\n3;ieof\r\nabc\r\n10; name=value\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n"
            .to_vec(),
        large,
    ]
}

/// The outcomes one REQMOD can be counted as, in a hit-heavy mix.
fn outcomes() -> Vec<(Option<Outcome>, Duration)> {
    let signed = Outcome::Adapted {
        url: String::new(),
        host: String::new(),
        signed: true,
    };
    vec![
        (Some(signed.clone()), Duration::from_micros(12)),
        (Some(signed.clone()), Duration::from_micros(30)),
        (Some(signed), Duration::from_micros(7)),
        (
            Some(Outcome::Unchanged(Unchanged::NotOurs)),
            Duration::from_micros(2),
        ),
        (
            Some(Outcome::Refused(Refusal::BadEscape)),
            Duration::from_micros(4),
        ),
        (None, Duration::from_nanos(900)),
        (
            Some(Outcome::Unchanged(Unchanged::NoCredentials)),
            Duration::from_micros(3),
        ),
        (
            Some(Outcome::Redirect(301, String::new())),
            Duration::from_millis(2),
        ),
    ]
}

/// Median nanoseconds per call of `one_pass`, which makes `per_pass` calls.
fn time(per_pass: usize, mut one_pass: impl FnMut()) -> f64 {
    let ops = std::env::var("FRAMING_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(OPS);
    for _ in 0..ops / 10 {
        one_pass();
    }
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..ops {
                one_pass();
            }
            t0.elapsed().as_nanos() as f64 / (ops * per_pass) as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |group: &str| only.is_empty() || only.iter().any(|o| o == group);
    if run("head") {
        let ns = time(HEADS.len(), || {
            for h in HEADS {
                match parse_head(black_box(h)) {
                    Ok(Status::Complete(head, _)) => {
                        black_box(head);
                    }
                    other => panic!("{other:?}"),
                }
            }
        });
        println!("head    {ns:8.1} ns/head");
    }
    if run("chunked") {
        let bodies = bodies();
        let ns = time(bodies.len(), || {
            for b in &bodies {
                let mut d = Decoder::new(false);
                let used = d.feed(black_box(b)).unwrap_or(0);
                assert!(d.done() && used == b.len());
            }
        });
        println!("chunked {ns:8.1} ns/body");
    }
    if run("record") {
        let metrics = Metrics::default();
        let outcomes = outcomes();
        let ns = time(outcomes.len(), || {
            for (o, took) in &outcomes {
                black_box(&metrics).record(black_box(o.as_ref()), black_box(*took));
            }
        });
        println!("record  {ns:8.1} ns/record");
    }
}
