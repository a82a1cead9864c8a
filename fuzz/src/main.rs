//! `s3squid-fuzz`: runs the fuzz targets (see `docs/fuzzing.md`).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use s3squid_fuzz::driver::{self, Options};
use s3squid_fuzz::targets::{by_name, Target, TARGETS};

/// Cases per target when neither `--cases` nor `--seconds` is given.
const DEFAULT_CASES: u64 = 20_000;

const HELP: &str = "s3squid-fuzz: stable-toolchain fuzzing of s3squid's parsers

usage: s3squid-fuzz [--target NAME|all]... [--cases N] [--seconds S] [--seed N]
                    [--corpus DIR] [--crashes DIR]
       s3squid-fuzz [--target NAME|all]... --replay FILE...
       s3squid-fuzz --list

  --target NAME  a target (repeatable; default all)
  --cases N      cases per target, the seeds included (default 20000 without --seconds)
  --seconds S    stop after S seconds in all, shared equally by the targets
  --seed N       the PRNG seed (default 1); a run is reproduced by its seed and targets
  --corpus DIR   seed corpora, DIR/<target>/* (default fuzz/corpus)
  --crashes DIR  where a failing input is saved (default fuzz/crashes)
  --replay FILE  run these files through the targets once, instead of fuzzing
  --list         the targets and the parser each feeds

Exits 1 at the first case that panics or allocates past its target's bound, after
saving the input and printing the target, case number, seed and file.";

struct Args {
    targets: Vec<&'static Target>,
    cases: Option<u64>,
    seconds: Option<f64>,
    seed: u64,
    corpus: PathBuf,
    crashes: PathBuf,
    replay: Vec<PathBuf>,
    list: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        targets: Vec::new(),
        cases: None,
        seconds: None,
        seed: 1,
        corpus: driver::default_corpus_dir(),
        crashes: driver::default_crash_dir(),
        replay: Vec::new(),
        list: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--target" => match value()?.as_str() {
                "all" => a.targets.extend(TARGETS),
                name => a
                    .targets
                    .push(by_name(name).ok_or(format!("no target {name:?} (--list shows them)"))?),
            },
            "--cases" => a.cases = Some(value()?.parse().map_err(|_| "--cases: a number")?),
            "--seconds" => {
                let s: f64 = value()?.parse().map_err(|_| "--seconds: a number")?;
                if !(s > 0.0 && s.is_finite()) {
                    return Err("--seconds: a positive number".into());
                }
                a.seconds = Some(s);
            }
            "--seed" => a.seed = value()?.parse().map_err(|_| "--seed: a number")?,
            "--corpus" => a.corpus = value()?.into(),
            "--crashes" => a.crashes = value()?.into(),
            "--replay" => a.replay.push(value()?.into()),
            "--list" => a.list = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if a.targets.is_empty() {
        a.targets.extend(TARGETS);
    }
    if a.cases.is_none() && a.seconds.is_none() {
        a.cases = Some(DEFAULT_CASES);
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("s3squid-fuzz: {e}\n\n{HELP}");
            return ExitCode::from(2);
        }
    };
    if args.list {
        for t in TARGETS {
            println!("{:16} {}", t.name, t.entry);
        }
        return ExitCode::SUCCESS;
    }
    if !args.replay.is_empty() {
        return replay(&args);
    }
    let time = args
        .seconds
        .map(|s| Duration::from_secs_f64(s / args.targets.len() as f64));
    let opts = Options {
        cases: args.cases,
        time,
        seed: args.seed,
        crash_dir: args.crashes.clone(),
    };
    for target in &args.targets {
        let corpus = match driver::load_corpus(&args.corpus, target.name) {
            Ok(c) => c,
            Err(e) => {
                eprintln!(
                    "s3squid-fuzz: cannot read the corpus of {}: {e}",
                    target.name
                );
                return ExitCode::from(2);
            }
        };
        match driver::fuzz(target, &corpus, &opts) {
            Ok(s) => println!(
                "{:16} {:>9} cases in {:>7.2} s ({:>8.0}/s), longest input {:>7} bytes, peak heap {:>8} bytes (≤ {:.0}% of its bound)",
                target.name,
                s.cases,
                s.elapsed.as_secs_f64(),
                s.rate(),
                s.max_len,
                s.max_peak,
                s.max_peak_ratio * 100.0
            ),
            Err(finding) => {
                eprintln!("{finding}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn replay(args: &Args) -> ExitCode {
    let mut failed = 0;
    for path in &args.replay {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("s3squid-fuzz: cannot read {}: {e}", path.display());
                return ExitCode::from(2);
            }
        };
        for target in &args.targets {
            // Lazily built state is built before the measured case.
            let _ = driver::run_case(target, b"");
            match driver::run_case(target, &data) {
                Ok(peak) => println!(
                    "{}: {} ok (peak heap {peak} bytes)",
                    path.display(),
                    target.name
                ),
                Err(f) => {
                    failed += 1;
                    eprintln!("{}: {} FAILED: {f}", path.display(), target.name);
                }
            }
        }
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
