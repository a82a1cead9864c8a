//! Child processes stopped by PID when dropped: SIGTERM, a bounded wait, then SIGKILL.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A started process.
pub struct Proc {
    /// What it is, for messages.
    pub name: String,
    child: Child,
}

impl Proc {
    /// Starts `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Proc {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let err = out.try_clone().unwrap();
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        Proc {
            name: name.to_owned(),
            child,
        }
    }

    /// The PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends a signal by PID.
    pub fn signal(&self, sig: &str) {
        let pid = self.pid();
        assert!(signal_pid(pid, sig), "kill -{sig} {pid} failed");
    }

    /// Stops it: SIGTERM, up to `grace`, then SIGKILL. Returns whether it exited by itself.
    pub fn stop(&mut self, grace: Duration) -> bool {
        if !self.running() {
            return true;
        }
        // It may exit on its own meanwhile: a failed TERM is no error here.
        signal_pid(self.pid(), "TERM");
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if !self.running() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// PIDs of the processes whose parent is `parent` and whose command name is `comm` (read
/// from /proc), so a test can signal a helper Squid started — by PID, never by name.
pub fn children_named(parent: u32, comm: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...; comm may contain spaces, so split at the last ')'.
        let Some((head, tail)) = stat.rsplit_once(')') else {
            continue;
        };
        let name = head.split_once('(').map(|(_, n)| n).unwrap_or("");
        let ppid = tail
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        // The kernel truncates comm to 15 bytes.
        if ppid == Some(parent) && comm.starts_with(name) && !name.is_empty() {
            out.push(pid);
        }
    }
    out
}

/// Sends a signal to a PID; whether it was delivered (the process may have just exited).
pub fn signal_pid(pid: u32, sig: &str) -> bool {
    Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}
