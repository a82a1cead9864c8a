//! Loopback servers speaking the real protocols of what cannot run here: the EC2 instance
//! metadata service (IMDSv2) and the ECS container credentials endpoint. They hand out
//! the s3s-fs test keys with a fresh session token and a short expiry each time, and can be
//! switched to failing (a provider outage).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::{ACCESS_KEY, SECRET_KEY};

/// Which protocol the mock speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// IMDSv2: `PUT /latest/api/token`, then `GET /latest/meta-data/iam/security-credentials/[ROLE]`
    /// with `X-aws-ec2-metadata-token`.
    Imds,
    /// ECS: `GET <full URI>` with `Authorization: <token>`.
    Ecs,
}

/// The IMDSv2 session token the mock issues and requires.
pub const IMDS_TOKEN: &str = "imds-session-token-for-tests";
/// The ECS authorization token the mock requires.
pub const ECS_AUTH: &str = "ecs-auth-token-for-tests";
/// The role name IMDS lists.
pub const ROLE: &str = "s3squid-test-role";

/// A running mock credentials provider.
pub struct CredsMock {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// When set, every credentials request fails with 500 (a provider outage).
    pub failing: Arc<AtomicBool>,
    /// Credentials handed out so far.
    pub issued: Arc<AtomicU64>,
    /// Lifetime of each credential set.
    pub lifetime: Duration,
    stop: Arc<AtomicBool>,
}

impl CredsMock {
    /// Starts the mock on a free loopback port.
    pub fn start(kind: Kind, lifetime: Duration) -> CredsMock {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let failing = Arc::new(AtomicBool::new(false));
        let issued = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (f, i, s) = (failing.clone(), issued.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Relaxed) {
                    return;
                }
                if let Ok(conn) = conn {
                    let _ = serve(conn, kind, &f, &i, lifetime);
                }
            }
        });
        CredsMock {
            port,
            failing,
            issued,
            lifetime,
            stop,
        }
    }

    /// The environment that points aws-config's chain at this mock (and nowhere else).
    pub fn env(&self, kind: Kind) -> Vec<(String, String)> {
        match kind {
            Kind::Imds => vec![
                ("AWS_EC2_METADATA_DISABLED".into(), "false".into()),
                (
                    "AWS_EC2_METADATA_SERVICE_ENDPOINT".into(),
                    format!("http://127.0.0.1:{}", self.port),
                ),
            ],
            Kind::Ecs => vec![
                (
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI".into(),
                    format!("http://127.0.0.1:{}/v2/credentials", self.port),
                ),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN".into(), ECS_AUTH.into()),
            ],
        }
    }
}

impl Drop for CredsMock {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn iso8601(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn serve(
    conn: TcpStream,
    kind: Kind,
    failing: &AtomicBool,
    issued: &AtomicU64,
    lifetime: Duration,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let creds = || {
        let n = issued.fetch_add(1, Relaxed) + 1;
        let exp = iso8601(SystemTime::now() + lifetime);
        format!(
            "{{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"{ACCESS_KEY}\",\"SecretAccessKey\":\"{SECRET_KEY}\",\"Token\":\"session-token-{n}\",\"Expiration\":\"{exp}\",\"LastUpdated\":\"{}\"}}",
            iso8601(SystemTime::now())
        )
    };
    let mut extra = String::new();
    let (status, body) = match (kind, method.as_str(), path.as_str()) {
        (Kind::Imds, "PUT", "/latest/api/token")
            if header("x-aws-ec2-metadata-token-ttl-seconds").is_some() =>
        {
            // IMDSv2 echoes the session token's TTL.
            extra = format!(
                "X-aws-ec2-metadata-token-ttl-seconds: {}\r\n",
                header("x-aws-ec2-metadata-token-ttl-seconds").unwrap_or("21600")
            );
            (200, IMDS_TOKEN.to_owned())
        }
        (Kind::Imds, "GET", p) if p.starts_with("/latest/meta-data/iam/security-credentials") => {
            if header("x-aws-ec2-metadata-token") != Some(IMDS_TOKEN) {
                (401, String::new())
            } else if failing.load(Relaxed) {
                (500, "outage".into())
            } else if p.ends_with("security-credentials/")
                || p.ends_with("security-credentials-extended/")
            {
                (200, ROLE.to_owned())
            } else if p.ends_with(ROLE) {
                (200, creds())
            } else {
                (404, String::new())
            }
        }
        (Kind::Ecs, "GET", "/v2/credentials") => {
            if header("authorization") != Some(ECS_AUTH) {
                (401, String::new())
            } else if failing.load(Relaxed) {
                (500, "outage".into())
            } else {
                (200, creds())
            }
        }
        _ => (404, String::new()),
    };
    let mut conn = conn;
    write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_dates() {
        assert_eq!(
            super::iso8601(std::time::SystemTime::UNIX_EPOCH),
            "1970-01-01T00:00:00Z"
        );
        let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_767_323_045);
        assert_eq!(super::iso8601(t), "2026-01-02T03:04:05Z");
    }
}
