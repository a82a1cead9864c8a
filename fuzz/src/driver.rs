//! The mutation driver: runs a target on its seed corpus and on mutants of it, one case
//! at a time on the calling thread, each under `catch_unwind` and a per-thread allocation
//! counter; the first input that panics or allocates past the target's bound is saved to
//! the crash directory and returned as a [`Finding`].

pub mod mutate;

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use mutate::{fnv1a, mutate, Rng};

use crate::targets::Target;

/// The crate's directory (corpus and crashes live under it).
pub const CRATE_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// How one case failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The target panicked: where, and the message (cut to a few hundred bytes).
    Panic(String),
    /// The case's peak heap allocation exceeded the target's bound for its length.
    Alloc {
        /// Peak bytes live at once during the case.
        peak: u64,
        /// The bound for this input length.
        bound: u64,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Panic(m) => write!(f, "panicked: {m}"),
            Failure::Alloc { peak, bound } => write!(
                f,
                "allocated {peak} bytes at its peak, over its bound of {bound}"
            ),
        }
    }
}

/// A failing input, saved.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The target's name.
    pub target: &'static str,
    /// The case number (0-based; the first cases are the seeds unchanged).
    pub case: u64,
    /// The driver's seed.
    pub seed: u64,
    /// What went wrong.
    pub failure: Failure,
    /// Where the input was saved (`None` if it could not be written).
    pub path: Option<PathBuf>,
    /// The input's length.
    pub len: usize,
    /// Its first bytes.
    pub prefix: Vec<u8>,
}

/// How many leading bytes of a failing input are printed (as hex).
const SHOWN_PREFIX: usize = 64;

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "FAILED: target {} case {} (seed {}) {}",
            self.target, self.case, self.seed, self.failure
        )?;
        let hex: Vec<String> = self.prefix.iter().map(|b| format!("{b:02x}")).collect();
        writeln!(
            f,
            "  input: {} bytes, first {}: {}",
            self.len,
            self.prefix.len(),
            hex.join(" ")
        )?;
        match &self.path {
            Some(p) => write!(
                f,
                "  saved to {} (replay: cargo run -p s3squid-fuzz -- --target {} --replay {})",
                p.display(),
                self.target,
                p.display()
            ),
            None => write!(f, "  (the input could not be saved)"),
        }
    }
}

thread_local! {
    /// Set while a case runs on this thread: the panic hook records instead of printing.
    static IN_CASE: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Longest panic message kept (an assertion may format a large value).
const MAX_PANIC_MESSAGE: usize = 300;

/// Installs (once per process) a panic hook that, on a thread running a case, records the
/// location and the start of the message instead of printing it; elsewhere it defers to
/// the hook it replaced, so other tests' panics print as usual.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_CASE.with(Cell::get) {
                return previous(info);
            }
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            let mut cut = msg.len().min(MAX_PANIC_MESSAGE);
            while !msg.is_char_boundary(cut) {
                cut -= 1;
            }
            let more = if cut < msg.len() { "…" } else { "" };
            let at = info
                .location()
                .map(|l| format!("{}:{}: ", l.file(), l.line()))
                .unwrap_or_default();
            let text = format!("{at}{}{more}", &msg[..cut]);
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
        }));
    });
}

/// Runs one case: `Ok(peak)` with the peak heap bytes it held at once, or why it failed.
pub fn run_case(target: &Target, data: &[u8]) -> Result<u64, Failure> {
    install_panic_hook();
    IN_CASE.with(|c| c.set(true));
    let mut outcome = Ok(());
    let info = allocation_counter::measure(|| {
        outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(data)));
    });
    IN_CASE.with(|c| c.set(false));
    if outcome.is_err() {
        let msg = LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "(no message)".to_owned());
        return Err(Failure::Panic(msg));
    }
    let bound = (target.bound)(data.len()) as u64;
    if info.bytes_max > bound {
        return Err(Failure::Alloc {
            peak: info.bytes_max,
            bound,
        });
    }
    Ok(info.bytes_max)
}

/// How long and with what a target is fuzzed.
#[derive(Debug, Clone)]
pub struct Options {
    /// Stop after this many cases (the seeds included).
    pub cases: Option<u64>,
    /// Stop after this long.
    pub time: Option<Duration>,
    /// The PRNG seed (each target mixes in its name, so targets do not share mutants).
    pub seed: u64,
    /// Where failing inputs are written.
    pub crash_dir: PathBuf,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Cases run.
    pub cases: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The longest input.
    pub max_len: usize,
    /// The largest peak allocation of a case.
    pub max_peak: u64,
    /// The largest ratio of a case's peak to its bound (how close a target came).
    pub max_peak_ratio: f64,
}

impl Stats {
    /// Cases per second.
    pub fn rate(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Recent mutants kept as bases for further mutation (so mutations compound).
const POOL: usize = 64;
/// Longest mutant kept in the pool.
const POOL_MAX_LEN: usize = 32 * 1024;

/// Fuzzes `target`: first each of `corpus` unchanged, then mutants of it, until the case
/// count or the time is reached or a case fails. The failing input is saved under
/// `opts.crash_dir` as `<target>-<hash>`.
pub fn fuzz(target: &Target, corpus: &[Vec<u8>], opts: &Options) -> Result<Stats, Box<Finding>> {
    let found = |case, failure, data: &[u8]| {
        Box::new(Finding {
            target: target.name,
            case,
            seed: opts.seed,
            failure,
            path: save(&opts.crash_dir, target.name, data),
            len: data.len(),
            prefix: data[..data.len().min(SHOWN_PREFIX)].to_vec(),
        })
    };
    // Lazily built state (route tables, runtimes) is built by this first call, so its
    // allocations are not counted against a case; a panic on the empty input still is one.
    if let Err(Failure::Panic(m)) = run_case(target, b"") {
        return Err(found(0, Failure::Panic(m), b""));
    }
    let start = Instant::now();
    let mut stats = Stats::default();
    let mut rng = Rng::new(opts.seed ^ fnv1a(target.name.as_bytes()));
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let empty = [Vec::new()];
    let corpus = if corpus.is_empty() {
        &empty[..]
    } else {
        corpus
    };
    loop {
        let case = stats.cases;
        if opts.cases.is_some_and(|n| case >= n) || opts.time.is_some_and(|t| start.elapsed() >= t)
        {
            break;
        }
        let data = match corpus.get(case as usize) {
            Some(seed) => seed.clone(),
            None => next_input(&mut rng, corpus, &mut pool, target.tokens),
        };
        match run_case(target, &data) {
            Ok(peak) => {
                stats.max_peak = stats.max_peak.max(peak);
                let ratio = peak as f64 / (target.bound)(data.len()).max(1) as f64;
                stats.max_peak_ratio = stats.max_peak_ratio.max(ratio);
            }
            Err(failure) => return Err(found(case, failure, &data)),
        }
        stats.max_len = stats.max_len.max(data.len());
        stats.cases += 1;
    }
    stats.elapsed = start.elapsed();
    Ok(stats)
}

/// A mutant of a seed or of a recent mutant: one to four mutations, sometimes sixteen.
fn next_input(
    rng: &mut Rng,
    corpus: &[Vec<u8>],
    pool: &mut Vec<Vec<u8>>,
    tokens: &[&[u8]],
) -> Vec<u8> {
    let mut data = if !pool.is_empty() && rng.one_in(4) {
        rng.pick(pool).clone()
    } else {
        rng.pick(corpus).clone()
    };
    let most = if rng.one_in(8) { 16 } else { 4 };
    let n = 1 + rng.below(most);
    for _ in 0..n {
        mutate(rng, &mut data, corpus, tokens);
    }
    if data.len() <= POOL_MAX_LEN {
        if pool.len() < POOL {
            pool.push(data.clone());
        } else {
            let i = rng.below(POOL);
            pool[i] = data.clone();
        }
    }
    data
}

/// Writes a failing input to `dir/<target>-<hash>`.
pub fn save(dir: &Path, target: &str, data: &[u8]) -> Option<PathBuf> {
    let path = dir.join(format!("{target}-{:016x}", fnv1a(data)));
    std::fs::create_dir_all(dir).ok()?;
    std::fs::write(&path, data).ok()?;
    Some(path)
}

/// Every file directly under `dir`, sorted by name (a missing directory is empty).
pub fn load_dir(dir: &Path) -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.') || n == "README.md");
        if path.is_file() && !hidden {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| std::fs::read(&p).map(|d| (p, d)))
        .collect()
}

/// The seed corpus of a target: `corpus_dir/<target>/*`.
pub fn load_corpus(corpus_dir: &Path, target: &str) -> std::io::Result<Vec<Vec<u8>>> {
    Ok(load_dir(&corpus_dir.join(target))?
        .into_iter()
        .map(|(_, d)| d)
        .collect())
}

/// The default corpus directory (`fuzz/corpus`).
pub fn default_corpus_dir() -> PathBuf {
    Path::new(CRATE_DIR).join("corpus")
}

/// The default crash directory (`fuzz/crashes`).
pub fn default_crash_dir() -> PathBuf {
    Path::new(CRATE_DIR).join("crashes")
}
