//! Byte classification sixteen bytes at a time, for the helpers' hot path (every request
//! line Squid sends a helper), through `wide`'s safe portable SIMD: SSE2 on x86-64, NEON on
//! aarch64, plain code elsewhere. Used where a byte loop, or memchr's per-call cost on the
//! short spans of a query string, would be most of the work.

use wide::{i8x16, u8x16};

/// Bytes per block.
pub const BLOCK: usize = 16;

/// One whole block (from [`slice::as_chunks`]).
#[inline]
pub fn load(chunk: &[u8; BLOCK]) -> u8x16 {
    u8x16::new(*chunk)
}

/// The block of `bytes` starting at `at`, with `pad` in the lanes past the end.
#[inline]
pub fn block(bytes: &[u8], at: usize, pad: u8) -> u8x16 {
    if let Some(whole) = bytes
        .get(at..at.saturating_add(BLOCK))
        .and_then(|b| <[u8; BLOCK]>::try_from(b).ok())
    {
        return u8x16::new(whole);
    }
    let rest = bytes.get(at..).unwrap_or_default();
    let mut lanes = [pad; BLOCK];
    lanes[..rest.len()].copy_from_slice(rest);
    u8x16::new(lanes)
}

/// The bytes of `bytes` from `at` on, up to a block of them: `(v, skip)` where lane
/// `skip + i` of `v` is `bytes[at + i]`. Near the end of a slice of at least a block the
/// block is loaded ending at its last byte (no copy), and `skip` lanes before `at` are to be
/// ignored; a shorter slice is copied and padded with zeros.
#[inline]
pub fn block_from(bytes: &[u8], at: usize) -> (u8x16, u32) {
    match bytes.len().checked_sub(BLOCK) {
        Some(last) if at > last => (block(bytes, last, 0), (at - last) as u32),
        _ => (block(bytes, at, 0), 0),
    }
}

/// Bit i is set when lane i of `a` and of `b` are the same byte.
#[inline]
pub fn same(a: u8x16, b: u8x16) -> u32 {
    a.simd_eq(b).to_bitmask()
}

/// Appends `bytes[from..to]` to `out` a block at a time while `bytes` has a whole block
/// from there (the bytes past `to` are appended and dropped again): the short runs of a
/// key without a call to `memcpy` each. Nothing for an empty (or reversed) range.
#[inline]
pub fn push_from(out: &mut Vec<u8>, bytes: &[u8], from: usize, to: usize) {
    if from >= to {
        return;
    }
    let mut at = from;
    while at < to {
        match bytes
            .get(at..at.saturating_add(BLOCK))
            .and_then(|b| <&[u8; BLOCK]>::try_from(b).ok())
        {
            Some(whole) => {
                out.extend_from_slice(whole);
                at += BLOCK;
            }
            None => {
                out.extend_from_slice(&bytes[at..to]);
                return;
            }
        }
    }
    out.truncate(out.len() - (at - to));
}

/// Whether `a` and `b` are the same bytes: a block at a time (the last one loaded ending at
/// the end, overlapping), without a call to `memcmp`.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() < BLOCK {
        return a == b;
    }
    let mut at = 0;
    while at + BLOCK < a.len() {
        if same(block(a, at, 0), block(b, at, 0)) != 0xffff {
            return false;
        }
        at += BLOCK;
    }
    let last = a.len() - BLOCK;
    same(block(a, last, 0), block(b, last, 0)) == 0xffff
}

/// Bit i is set when lane i is `b`.
#[inline]
pub fn eq(v: u8x16, b: u8) -> u32 {
    v.simd_eq(u8x16::splat(b)).to_bitmask()
}

/// All lanes set where the byte is printable ASCII (0x20..=0x7e): one add and one signed
/// compare (`b + 1`, as a signed byte, is above 0x20 exactly for those).
#[inline]
fn printable_lanes(v: u8x16) -> i8x16 {
    (v + u8x16::splat(1))
        .cast_signed()
        .simd_gt(i8x16::splat(0x20))
}

/// Bit i is set when lane i is printable ASCII (0x20..=0x7e).
#[inline]
pub fn printable(v: u8x16) -> u32 {
    printable_lanes(v).to_bitmask()
}

/// Whether every byte of `bytes` is printable ASCII (0x20..=0x7e). No early exit: a line is
/// short and almost always printable.
pub fn all_printable(bytes: &[u8]) -> bool {
    let (chunks, rest) = bytes.as_chunks::<BLOCK>();
    let mut all = i8x16::splat(-1);
    for chunk in chunks {
        all &= printable_lanes(load(chunk));
    }
    all &= printable_lanes(block(rest, 0, b' '));
    all.to_bitmask() == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_is_exactly_0x20_to_0x7e_in_every_lane() {
        for b in 0..=255u8 {
            let want = (0x20..=0x7e).contains(&b);
            for len in [1, 15, 16, 17, 31, 32, 33, 100] {
                for at in [0, len / 2, len - 1] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    assert_eq!(all_printable(&bytes), want, "{b:#04x} at {at} of {len}");
                }
            }
        }
        assert!(all_printable(b""));
    }

    #[test]
    fn blocks_are_padded_past_the_end() {
        let bytes = b"0123456789abcdefXY";
        assert_eq!(block(bytes, 0, 0).to_array(), *b"0123456789abcdef");
        let mut tail = [b'#'; BLOCK];
        tail[..2].copy_from_slice(b"XY");
        assert_eq!(block(bytes, 16, b'#').to_array(), tail);
        assert_eq!(block(bytes, 40, b'#').to_array(), [b'#'; BLOCK]);
        assert_eq!(eq(block(bytes, 8, 0), b'a'), 1 << 2);
        assert_eq!(eq(block(bytes, 16, b'&'), b'&'), 0xfffc);
        assert_eq!(same(block(bytes, 0, 0), block(b"0123x", 0, 0)), 0b1111);
    }

    #[test]
    fn push_from_appends_exactly_the_range() {
        let bytes: Vec<u8> = (0..40).collect();
        for from in 0..=bytes.len() {
            for to in from..=bytes.len() {
                let mut out = b"x".to_vec();
                push_from(&mut out, &bytes, from, to);
                assert_eq!(out[1..], bytes[from..to], "{from}..{to}");
                assert_eq!(out[0], b'x');
            }
        }
    }

    #[test]
    fn push_from_a_reversed_range_appends_nothing_and_keeps_what_was_there() {
        let mut out = b"keep-me".to_vec();
        push_from(&mut out, b"0123456789", 9, 3);
        assert_eq!(out, b"keep-me");
    }

    #[test]
    fn same_bytes_finds_any_difference() {
        for len in 0..50usize {
            let a: Vec<u8> = (0..len as u8).collect();
            assert!(same_bytes(&a, &a.clone()));
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x80;
                assert!(!same_bytes(&a, &b), "{len} {at}");
            }
            assert!(!same_bytes(&a, &[a.as_slice(), b"x"].concat()));
        }
    }

    #[test]
    fn block_from_gives_every_byte_from_any_start() {
        for len in 0..40usize {
            let bytes: Vec<u8> = (1..=len as u8).collect();
            for at in 0..=len {
                let (v, skip) = block_from(&bytes, at);
                let lanes = v.to_array();
                let n = (len - at).min(BLOCK);
                assert!(skip as usize + n <= BLOCK, "{len} {at}");
                assert_eq!(
                    &lanes[skip as usize..][..n],
                    &bytes[at..at + n],
                    "{len} {at}"
                );
                // Past the end of the slice: padding, never one of its bytes.
                assert!(
                    lanes[skip as usize + n..].iter().all(|&b| b == 0),
                    "{len} {at}"
                );
            }
        }
    }
}
