#![allow(clippy::unwrap_used)] // test code: a panic is a test failure with its location

//! What CI runs: every target for a bounded number of cases, every corpus and crash file
//! through every target, the corpus kept valid, and the harness's own ability to fail.

use std::path::{Path, PathBuf};

use s3squid_fuzz::driver::{self, Failure, Options};
use s3squid_fuzz::targets::{by_name, Target, TARGETS};

/// Cases per target in `cargo test` (debug build, every target in parallel on 2 cores):
/// sized so the whole test binary takes well under a minute. Longer runs: docs/fuzzing.md.
const CI_CASES: u64 = 4_000;

/// The seed of CI's runs: fixed, so a failure is reproduced by the same command.
const CI_SEED: u64 = 1;

fn fuzz(name: &str) {
    let target = by_name(name).unwrap();
    let corpus = driver::load_corpus(&driver::default_corpus_dir(), name).unwrap();
    let opts = Options {
        cases: Some(CI_CASES + corpus.len() as u64),
        time: None,
        seed: CI_SEED,
        crash_dir: driver::default_crash_dir(),
    };
    if let Err(finding) = driver::fuzz(target, &corpus, &opts) {
        panic!("{finding}");
    }
}

macro_rules! fuzz_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                fuzz(stringify!($name));
            }
        )*

        #[test]
        fn every_target_has_a_test() {
            let tested = [$(stringify!($name)),*];
            for t in TARGETS {
                assert!(tested.contains(&t.name), "no test fuzzes {}", t.name);
            }
        }
    };
}

mod fuzz_each_target {
    use super::{fuzz, TARGETS};

    fuzz_tests!(
        icap_head,
        encapsulated,
        chunked,
        http_head,
        icap_connection,
        helper_line,
        helper_storeid,
        helper_rewrite,
        storeid,
        decide,
        config,
    );
}

fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = driver::load_dir(dir).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(driver::load_dir(&path).unwrap());
        }
    }
    files
}

/// Every seed and every saved crash (kept as a regression seed once fixed) through every
/// target.
#[test]
fn every_corpus_and_crash_file_passes_every_target() {
    let mut files = files_under(&driver::default_corpus_dir());
    files.extend(driver::load_dir(&driver::default_crash_dir()).unwrap());
    let mut failures = Vec::new();
    for target in TARGETS {
        let _ = driver::run_case(target, b"");
        for (path, data) in &files {
            if let Err(f) = driver::run_case(target, data) {
                failures.push(format!("{} through {}: {f}", path.display(), target.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every target has seeds, and the real parser accepts every `ok-*` one: the corpus stays
/// made of valid messages as the parsers change.
#[test]
fn every_target_has_seeds_and_the_ok_ones_are_valid() {
    for target in TARGETS {
        let dir = driver::default_corpus_dir().join(target.name);
        let files = driver::load_dir(&dir).unwrap();
        assert!(!files.is_empty(), "no seeds in {}", dir.display());
        let is_ok = |p: &std::path::Path| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("ok-"))
        };
        assert!(
            files.iter().any(|(p, _)| is_ok(p)),
            "no ok-* seed in {}: nothing would keep the corpus valid",
            dir.display()
        );
        for (path, data) in files {
            if is_ok(&path) {
                assert!((target.accepts)(&data), "{} is refused", path.display());
            }
        }
    }
}

/// The route table's own S3 spellings take the store-ID fast path, so the targets that
/// compare it with the general path compare something.
#[test]
fn the_fast_path_answers_for_the_shared_route_table() {
    for url in [
        "http://127.0.0.1:9000/photos/a.jpg",
        "https://acme.s3.us-east-1.amazonaws.com/dir/a%20b.jpg?X-Amz-Signature=00",
    ] {
        let mut out = Vec::new();
        assert!(
            s3squid_fuzz::routes::fast_index().write_id(url.as_bytes(), &mut out),
            "{url}"
        );
    }
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("s3squid-fuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn broken(name: &'static str, run: fn(&[u8])) -> Target {
    Target {
        name,
        entry: "a deliberately broken target",
        run,
        bound: |len| 4 * len + 1024,
        accepts: |_| true,
        tokens: &[b"boom", b"hog"],
    }
}

fn run_broken(target: &Target, seeds: &[&[u8]]) -> Box<driver::Finding> {
    let dir = scratch_dir(target.name);
    let opts = Options {
        cases: Some(50_000),
        time: None,
        seed: 3,
        crash_dir: dir.clone(),
    };
    let corpus: Vec<Vec<u8>> = seeds.iter().map(|s| s.to_vec()).collect();
    let finding = driver::fuzz(target, &corpus, &opts).unwrap_err();
    let path = finding.path.clone().unwrap();
    assert!(path.starts_with(&dir), "{}", path.display());
    let saved = std::fs::read(&path).unwrap();
    assert_eq!(saved.len(), finding.len);
    assert!(saved.starts_with(&finding.prefix));
    // The saved input fails again on replay.
    assert!(driver::run_case(target, &saved).is_err());
    let _ = std::fs::remove_dir_all(&dir);
    finding
}

/// The harness can fail: a target that panics on some mutant is caught, its input saved
/// and the report names the target, the case and the seed, without the whole input.
#[test]
fn the_driver_catches_a_panic() {
    let t = broken("panics", |d| {
        if d.windows(2).any(|w| w == b"!!") {
            panic!("two bangs");
        }
    });
    let finding = run_broken(&t, &[b"a!b", b"hello"]);
    assert!(matches!(&finding.failure, Failure::Panic(m) if m.contains("two bangs")));
    assert!(finding.case >= 2, "a seed is clean; a mutant panics");
    let report = finding.to_string();
    for part in ["target panics", "seed 3", &format!("case {}", finding.case)] {
        assert!(report.contains(part), "{report}");
    }
}

/// The harness can fail: a target that allocates past its bound is caught.
#[test]
fn the_driver_catches_an_over_limit_allocation() {
    let t = broken("hogs", |d| {
        let n = if d.contains(&b'!') { 1 << 20 } else { d.len() };
        std::hint::black_box(vec![0u8; n]);
    });
    let finding = run_broken(&t, &[b"a.b", b"hello"]);
    assert!(
        matches!(finding.failure, Failure::Alloc { peak, bound } if peak >= 1 << 20 && bound < peak),
        "{:?}",
        finding.failure
    );
}

/// A long failing input is reported by its length and first bytes, not printed whole.
#[test]
fn a_long_failing_input_is_not_printed_whole() {
    let t = broken("long", |d| assert!(d.len() < 5000, "too long"));
    let finding = run_broken(&t, &[&[b'x'; 6000]]);
    assert_eq!(finding.case, 0);
    assert_eq!(finding.prefix.len(), 64);
    assert!(finding.to_string().len() < 1000);
}
