//! What `icap_persistent_connections off` (the samples' setting: it bounds a hung signer's
//! cost to one `icap_io_timeout`) costs cache hits in the single layout, where every hit
//! goes through s3squid-icap: HIT throughput with it off and on, interleaved rounds, wrk.
//!
//! ```sh
//! cargo build --release --workspace --bins --locked
//! cargo run --release -p s3squid-e2e --bin icap-pconn-bench [-- ROUNDS SECONDS]
//! ```
//!
//! Starts its own stack (s3s-fs, s3squid-icap, Squid 5.7) on loopback ports in a temp dir,
//! like the end-to-end tests (`scripts/install-deps` installs Squid and s3s-fs), with the
//! release binaries next to it, and stops it at the end. Results go in docs/operations.md.
//! It is not a variant of `bench/hit.py` because it needs the whole signing stack (S3 with
//! keys, s3squid-icap, the rendered single-layout squid.conf), which the e2e harness's
//! `Stack` starts and hit.py (a bare accelerator with a Python origin) does not.
#![allow(clippy::unwrap_used)] // a bench: a panic with its location is the right failure

use std::process::Command;
use std::time::Duration;

use s3squid::squid_conf::Layout;
use s3squid_e2e::squid::{Stack, StackOptions, PUBLIC_HOST};
use s3squid_e2e::Sandbox;

const OBJECT: &str = "/photos/bench/hit.jpg";

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(5, |a| a.parse().unwrap());
    let seconds: u64 = args.next().map_or(10, |a| a.parse().unwrap());
    let sb = Sandbox::new("icap-pconn-bench");
    let st = Stack::start(&sb, Layout::Single, StackOptions::default());
    st.s3.put("photos", "bench/hit.jpg", &[b'x'; 1024]);
    assert_eq!(st.get(OBJECT).status, 200);
    let sample = std::fs::read_to_string(&st.front.conf).unwrap();
    assert!(sample.contains("\nicap_persistent_connections off\n"));
    let mut results: Vec<(&str, Vec<f64>)> = vec![("off", Vec::new()), ("on", Vec::new())];
    for round in 0..rounds {
        for i in 0..results.len() {
            let k = (i + round) % results.len();
            let setting = results[k].0;
            let conf = sample.replace(
                "\nicap_persistent_connections off\n",
                &format!("\nicap_persistent_connections {setting}\n"),
            );
            std::fs::write(&st.front.conf, conf).unwrap();
            st.front.control("reconfigure");
            std::thread::sleep(Duration::from_secs(3));
            let r = st.get(OBJECT);
            assert!(
                r.status == 200 && r.cache_hit(),
                "not a hit after reconfigure: {} {:?}",
                r.status,
                r.headers
            );
            wrk(st.front.port, 2);
            let rps = wrk(st.front.port, seconds);
            eprintln!("round {}: persistent {setting}: {rps:.0} req/s", round + 1);
            results[k].1.push(rps);
        }
    }
    // Every hit went through s3squid-icap (the single layout signs before the lookup).
    let signed = st
        .icap
        .metric("s3squid_icap_requests_total{outcome=\"signed\"}");
    assert!(
        signed > (rounds as f64) * 2.0 * 1000.0,
        "only {signed} requests were signed: the hits did not go through s3squid-icap"
    );
    println!(
        "single layout, HIT throughput (wrk -t2 -c32, {seconds} s, median of {rounds}), 1 KiB object:"
    );
    for (setting, mut v) in results {
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        println!("  icap_persistent_connections {setting:3}: {median:8.0} req/s  (all: {v:.0?})");
    }
}

/// Requests per second from one wrk run against the front Squid.
fn wrk(port: u16, seconds: u64) -> f64 {
    let out = Command::new("wrk")
        .args(["-t2", "-c32", &format!("-d{seconds}s"), "-H"])
        .arg(format!("Host: {PUBLIC_HOST}"))
        .arg(format!("http://127.0.0.1:{port}{OBJECT}"))
        .output()
        .expect("wrk is not installed (bench/run installs it: apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("Non-2xx"), "errors under load:\n{text}");
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("cannot read wrk output:\n{text}"))
}
