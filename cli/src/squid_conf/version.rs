//! The Squid version a rendering is for ([`SquidConfParams::squid_version`]): the samples are
//! the same text for every tested version (5.7, 6.13, 7.7: the e2e suite runs on each, see
//! scripts/test) except where Squid itself differs in a way an operator would see.
//!
//! - **Squid 6 and later** log `WARNING: Squid bug 5187 workaround triggered` (message 72 of
//!   Squid's `doc/debug-messages.dox`) for every request s3squid-icap answers itself (a refusal,
//!   a redirect: REQMOD satisfaction), so any client could fill cache.log with them. The
//!   answer reaches the client whole on 6.13 and 7.7 (e2e `first_light::refusals_*`,
//!   `helpers::index_and_redirects_*`), so the warning says nothing an operator can act on:
//!   for 6 and later the ICAP section writes `cache_log_message id=72 limit=1` (the first is
//!   logged, then none). Squid 5.7 has neither the warning nor `cache_log_message` (`squid -k
//!   parse` there: `unrecognized: 'cache_log_message'`), so it gets a comment only.
//!
//! [`SquidConfParams::squid_version`]: super::SquidConfParams::squid_version

use std::fmt;

/// A Squid `MAJOR.MINOR` version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SquidVersion {
    /// 5, 6, 7, …
    pub major: u32,
    /// The release within the major version (Squid numbers them `MAJOR.MINOR` since 4).
    pub minor: u32,
}

impl SquidVersion {
    /// The oldest tested Squid (Debian bookworm's 5.7): what [`super::params_from_config`]
    /// assumes, and so what the committed samples in `squid-conf/` are rendered for. Their
    /// text parses on every tested version (`cli/tests/squid_parse.rs` on each).
    pub const OLDEST_TESTED: SquidVersion = SquidVersion::new(5, 7);

    /// `major.minor`.
    pub const fn new(major: u32, minor: u32) -> SquidVersion {
        SquidVersion { major, minor }
    }

    /// Parses `MAJOR[.MINOR[.…]]` (`5.7`, `6.13`, `7`, `7.0.1`); a missing minor is 0, and
    /// anything after the minor's digits (`-VCS`, `.1`) is ignored.
    pub fn parse(s: &str) -> Result<SquidVersion, String> {
        let bad = || format!("{s:?} is not a Squid version like 5.7 or 6.13");
        let mut parts = s.trim().splitn(2, '.');
        let major = parts
            .next()
            .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|m| m.parse::<u32>().ok())
            .ok_or_else(bad)?;
        let minor = match parts.next() {
            None => 0,
            Some(rest) => {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<u32>().map_err(|_| bad())?
            }
        };
        if !(3..=99).contains(&major) {
            return Err(bad());
        }
        Ok(SquidVersion::new(major, minor))
    }

    /// The version in `squid -v` output (`Squid Cache: Version 6.13`, first line).
    pub fn from_squid_v(output: &str) -> Option<SquidVersion> {
        output.lines().find_map(|l| {
            let v = l.trim().strip_prefix("Squid Cache: Version ")?;
            SquidVersion::parse(v.split_whitespace().next()?).ok()
        })
    }

    /// Asks `program -v` for its version.
    pub fn probe(program: &std::ffi::OsStr) -> Result<SquidVersion, String> {
        let shown = program.to_string_lossy();
        let out = std::process::Command::new(program)
            .arg("-v")
            .output()
            .map_err(|e| format!("cannot run `{shown} -v`: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        match SquidVersion::from_squid_v(&text) {
            Some(v) if out.status.success() => Ok(v),
            _ => Err(format!(
                "`{shown} -v` exited {} without a `Squid Cache: Version` line:\n{}{}",
                out.status,
                text,
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    }

    /// The version of the installed Squid: `squid -v`, with `squid` from `PATH`, else
    /// `/usr/sbin/squid` (not on a user's `PATH` on Debian). Returns the program asked too.
    pub fn probe_installed() -> Result<(SquidVersion, &'static str), String> {
        let mut errors = Vec::new();
        for program in ["squid", "/usr/sbin/squid"] {
            match SquidVersion::probe(program.as_ref()) {
                Ok(v) => return Ok((v, program)),
                Err(e) => errors.push(e),
            }
        }
        Err(errors.join("\n"))
    }

    /// Whether this Squid logs `WARNING: Squid bug 5187 workaround triggered` for each
    /// request an ICAP service answers itself, and knows `cache_log_message` (both since 6).
    pub fn logs_bug_5187_workaround(self) -> bool {
        self.major >= 6
    }
}

impl fmt::Display for SquidVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl std::str::FromStr for SquidVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<SquidVersion, String> {
        SquidVersion::parse(s)
    }
}

/// The ICAP section's lines for `v` (see the module comment): `cache_log_message` for Squid
/// 6 and later, a comment for older ones. Ends without a newline.
pub(super) fn icap_log_messages(v: SquidVersion) -> String {
    let common = "\
# Squid 6 and later log a warning, `Squid bug 5187 workaround triggered`, for each request
# that s3squid-icap answers itself (a refusal, a redirect), which any client can ask for; the
# client gets the whole answer all the same (that is Squid's workaround).";
    if v.logs_bug_5187_workaround() {
        format!(
            "{common}\n\
             # Rendered for Squid {v}: the first such warning is logged, then none (message ID 72).\n\
             cache_log_message id=72 limit=1"
        )
    } else {
        format!(
            "{common}\n\
             # Rendered for Squid {v}, which neither logs it nor knows `cache_log_message`. For Squid\n\
             # 6 or later, render with --squid-version (or where `squid -v` names it) to silence it."
        )
    }
}

#[cfg(test)]
mod tests;
