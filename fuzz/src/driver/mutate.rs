//! The PRNG and the byte-level mutations: deterministic for a given seed, so a run is
//! reproduced by its seed and case count.

/// SplitMix64: tiny, fast, and good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// True once in `n` times.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// FNV-1a, 64 bits: names crash files and picks split points from the input itself.
pub fn fnv1a(data: &[u8]) -> u64 {
    fnv1a_more(0xcbf2_9ce4_8422_2325, data)
}

/// Continues an FNV-1a hash `h` with more bytes.
pub fn fnv1a_more(h: u64, data: &[u8]) -> u64 {
    data.iter()
        .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Bytes that parsers treat specially.
pub const INTERESTING: &[u8] = &[
    0, 0x7f, 0x80, 0xff, b'\r', b'\n', b' ', b'%', b':', b'=', b',', b';', b'\t', b'/', b'?', b'&',
    b'#', b'"', b'\\', b'.', b'+', b'@', b'0', b'9', b'a', b'f', b'A', b'[',
];

/// Tokens every target's inputs are spiced with (each target adds its own).
pub const COMMON_TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\r\n\r\n",
    b"\n",
    b"%",
    b"%0",
    b"%00",
    b"%2F",
    b"%2f",
    b"%25",
    b"%zz",
    b"%C3%A9",
    b"%ED%A0%80",
    b"\xc3\xa9",
    b"\xe6\x97\xa5",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xc2\x85",
    b"..",
    b"/../",
    b"/./",
    b"//",
];

/// Numbers that cross limits and integer widths.
pub const NUMBERS: &[&[u8]] = &[
    b"0",
    b"1",
    b"-1",
    b"255",
    b"256",
    b"1024",
    b"1025",
    b"16384",
    b"65536",
    b"65537",
    b"999999999",
    b"1000000000",
    b"2147483648",
    b"4294967296",
    b"18446744073709551616",
    b"ffffffff",
    b"FFFFFFFF",
    b"100000",
    b"100001",
    b"fffffffff",
    b"0000000000000000001",
];

/// Sizes that the repeat mutations grow a range to: just past the named limits (16 KiB
/// ICAP head and helper line, 64 KiB HTTP head and kept body, 9 KiB URL) and beyond.
const BLOW_UP_SIZES: &[usize] = &[
    1025,
    4 * 1024 + 1,
    9 * 1024 + 1,
    16 * 1024 + 1,
    64 * 1024 + 1,
    100 * 1024,
];

/// How many times the repeat mutations repeat a range or a line.
const REPEAT_COUNTS: &[usize] = &[2, 3, 33, 65, 129, 1000, 10_000];

/// Largest input a mutation makes (past the 1 MiB configuration file limit).
pub const MAX_INPUT: usize = 1024 * 1024 + 64 * 1024;

/// Largest input a repeat mutation usually makes (past every limit but the body's); one in
/// sixteen may grow to [`MAX_INPUT`].
const USUAL_MAX_INPUT: usize = 128 * 1024;

/// Applies one random mutation to `data`. `others` are inputs to splice from, `tokens`
/// the target's dictionary.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>, others: &[Vec<u8>], tokens: &[&[u8]]) {
    let len = data.len();
    match rng.below(32) {
        // A bit flip.
        0 | 1 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        // A byte set to an interesting value.
        2..=5 if len > 0 => {
            let i = rng.below(len);
            data[i] = *rng.pick(INTERESTING);
        }
        // A byte set to anything.
        6 | 7 if len > 0 => {
            let i = rng.below(len);
            data[i] = rng.next_u64() as u8;
        }
        // Interesting or random bytes inserted.
        8..=10 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(4);
            for k in 0..n {
                let b = if rng.one_in(2) {
                    *rng.pick(INTERESTING)
                } else {
                    rng.next_u64() as u8
                };
                data.insert(at + k, b);
            }
        }
        // A range deleted.
        11..=13 if len > 0 => {
            let at = rng.below(len);
            let most = if rng.one_in(4) { len } else { 16 };
            let n = 1 + rng.below((len - at).min(most));
            data.drain(at..at + n);
        }
        // A range duplicated somewhere else.
        14 | 15 if len > 0 => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(64));
            let copy = data[at..at + n].to_vec();
            let to = rng.below(len + 1);
            data.splice(to..to, copy);
        }
        // Truncated.
        16 if len > 0 => data.truncate(rng.below(len)),
        // Spliced with another input: our head, its tail.
        17..=19 if !others.is_empty() => {
            let other = rng.pick(others);
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        // A dictionary token inserted or written over.
        20..=24 => {
            let token: &[u8] = if rng.one_in(2) && !tokens.is_empty() {
                tokens[rng.below(tokens.len())]
            } else {
                COMMON_TOKENS[rng.below(COMMON_TOKENS.len())]
            };
            let at = rng.below(len + 1);
            if rng.one_in(2) {
                data.splice(at..at, token.iter().copied());
            } else {
                let end = (at + token.len()).min(len);
                data.splice(at..end, token.iter().copied());
            }
        }
        // A number (or the run of digits at a position) replaced by one that crosses a
        // limit or an integer width.
        25..=27 => {
            let at = rng.below(len + 1);
            let end = at
                + data[at..]
                    .iter()
                    .take_while(|b| b.is_ascii_hexdigit())
                    .count();
            let number = *rng.pick(NUMBERS);
            data.splice(at..end, number.iter().copied());
        }
        // A short range repeated to a size past a limit, or a number of times.
        28 if len > 0 => {
            let at = rng.below(len);
            let most = if rng.one_in(2) { 1 } else { 32 };
            let n = 1 + rng.below((len - at).min(most));
            let times = if rng.one_in(2) {
                rng.pick(BLOW_UP_SIZES).div_ceil(n)
            } else {
                *rng.pick(REPEAT_COUNTS)
            };
            let cap = blow_up_cap(rng);
            repeat_range(data, at, n, times, cap);
        }
        // The line around a position repeated (thousands of headers, of helper lines).
        29 if len > 0 => {
            let at = rng.below(len);
            let start = data[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let end = data[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(len, |i| at + i + 1);
            let times = *rng.pick(REPEAT_COUNTS);
            let cap = blow_up_cap(rng);
            repeat_range(data, start, end - start, times, cap);
        }
        // A range overwritten by another range of the same input.
        30 if len > 1 => {
            let from = rng.below(len);
            let to = rng.below(len);
            let n = 1 + rng.below((len - from).min(len - to).min(32));
            data.copy_within(from..from + n, to);
        }
        // Anything else (or a mutation that needed bytes): a byte appended.
        _ => data.push(*rng.pick(INTERESTING)),
    }
    data.truncate(MAX_INPUT);
}

fn blow_up_cap(rng: &mut Rng) -> usize {
    if rng.one_in(16) {
        MAX_INPUT
    } else {
        USUAL_MAX_INPUT
    }
}

/// Inserts `times - 1` more copies of `data[at..at + n]` after it, up to `cap` bytes.
fn repeat_range(data: &mut Vec<u8>, at: usize, n: usize, times: usize, cap: usize) {
    if n == 0 {
        return;
    }
    let room = cap.saturating_sub(data.len()) / n;
    let extra = times.saturating_sub(1).min(room);
    let piece = data[at..at + n].to_vec();
    let mut grown = Vec::with_capacity(data.len() + extra * n);
    grown.extend_from_slice(&data[..at + n]);
    for _ in 0..extra {
        grown.extend_from_slice(&piece);
    }
    grown.extend_from_slice(&data[at + n..]);
    *data = grown;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_mutants() {
        let seeds = vec![b"REQMOD icap://h/s ICAP/1.0\r\n\r\n".to_vec()];
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..200)
                .map(|_| {
                    let mut d = seeds[0].clone();
                    mutate(&mut rng, &mut d, &seeds, &[b"Encapsulated: "]);
                    d
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    /// Mutating nothing, again and again, never panics (the final truncate keeps every
    /// mutant within MAX_INPUT whatever the mutations do).
    #[test]
    fn mutating_empty_input_never_panics() {
        let mut rng = Rng::new(1);
        for _ in 0..2000 {
            let mut d = Vec::new();
            for _ in 0..8 {
                mutate(&mut rng, &mut d, &[], &[]);
            }
        }
    }

    /// A repeated range grows the input by whole copies of the range, never past the cap.
    #[test]
    fn repeat_range_grows_by_whole_copies_up_to_the_cap() {
        let mut d = b"ab0123456789cd".to_vec();
        repeat_range(&mut d, 2, 10, 3, 1000);
        assert_eq!(d, b"ab012345678901234567890123456789cd".to_vec());
        let mut d = vec![b'x'; 100];
        repeat_range(&mut d, 0, 10, 1000, 500);
        assert_eq!(d.len(), 500, "as many copies as fit");
        let mut full = vec![b'x'; 500];
        repeat_range(&mut full, 0, 10, 1000, 500);
        assert_eq!(full.len(), 500, "no room: unchanged");
    }
}
