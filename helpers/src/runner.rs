//! The helper loop: the one place that reads stdin and writes stdout.
//!
//! Reads by line, not by `read()` call (Squid may send several lines in one write); answers
//! every line, bad ones included; flushes when no complete line is left, so a batch costs
//! one write; exits 0 on EOF (that is how Squid stops helpers); a write error on stdout
//! (Squid went away) ends the loop quietly.

use std::io::{Read, Write};

use crate::protocol::{channel_of, encode, parse_line, LineError, Reply, Request, MAX_HELPER_LINE};

/// Why the loop ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// stdin reached EOF.
    Eof,
    /// stdin could not be read.
    ReadError,
    /// stdout could not be written (Squid closed its end).
    WriteError,
}

/// A helper's rule: answers one well-formed request by appending its whole reply line
/// (channel ID included) to `out`. Any `FnMut(&Request) -> Reply` is a rule.
pub trait Rule {
    /// Appends the reply line for `req`.
    fn answer(&mut self, req: &Request<'_>, out: &mut Vec<u8>);

    /// A fast path on the raw line (without its `\n`), tried first: appends the whole
    /// reply line and returns true, or appends nothing and returns false, and the line is
    /// parsed and given to [`Rule::answer`]. It must answer exactly what that would.
    fn answer_raw(&mut self, _line: &[u8], _out: &mut Vec<u8>) -> bool {
        false
    }
}

impl<F: FnMut(&Request<'_>) -> Reply> Rule for F {
    fn answer(&mut self, req: &Request<'_>, out: &mut Vec<u8>) {
        let reply = self(req);
        encode(out, req.channel, &reply);
    }
}

/// Runs `rule` for every request line of `input`, writing replies to `output`.
pub fn run(mut input: impl Read, mut output: impl Write, mut decide: impl Rule) -> Stop {
    let mut buf = vec![0u8; 64 * 1024];
    let mut filled = 0;
    // Set while skipping the rest of an over-long line; holds its channel ID.
    let mut skipping: Option<Option<String>> = None;
    let mut out = Vec::with_capacity(64 * 1024);
    loop {
        let n = match input.read(&mut buf[filled..]) {
            Ok(0) => {
                // A last line without `\n` still gets its answer.
                if filled > 0 && skipping.is_none() {
                    answer(&buf[..filled], &mut out, &mut decide);
                }
                return flush(&mut output, &mut out).err().unwrap_or(Stop::Eof);
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Stop::ReadError,
        };
        filled += n;
        let mut start = 0;
        while let Some(pos) = memchr::memchr(b'\n', &buf[start..filled]) {
            let line = &buf[start..start + pos];
            match skipping.take() {
                Some(channel) => reply_err(&mut out, channel.as_deref(), LineError::TooLong),
                None => answer(line, &mut out, &mut decide),
            }
            start += pos + 1;
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        // A line parse_line accepts may have one byte more: the CR it removes.
        if filled > MAX_HELPER_LINE + 1 {
            if skipping.is_none() {
                skipping = Some(channel_of(&buf[..filled]).map(str::to_owned));
            }
            filled = 0;
        }
        if let Err(stop) = flush(&mut output, &mut out) {
            return stop;
        }
    }
}

fn answer(line: &[u8], out: &mut Vec<u8>, decide: &mut impl Rule) {
    if decide.answer_raw(line, out) {
        return;
    }
    match parse_line(line) {
        Ok(req) => decide.answer(&req, out),
        Err(e) => reply_err(out, channel_of(line), e),
    }
}

/// A line the helper cannot read: its bytes are the client's, so `ERR` (no change), never
/// `BH`, and only a debug line (a client must not be able to fill cache.log).
fn reply_err(out: &mut Vec<u8>, channel: Option<&str>, e: LineError) {
    log::debug!("{} (answered ERR)", e.message());
    encode(out, channel, &Reply::Unreadable(e.message()));
}

fn flush(output: &mut impl Write, out: &mut Vec<u8>) -> Result<(), Stop> {
    if out.is_empty() {
        return Ok(());
    }
    let res = output.write_all(out).and_then(|()| output.flush());
    out.clear();
    res.map_err(|_| Stop::WriteError)
}

#[cfg(test)]
mod tests;
