//! One ICAP connection: read a message, decide, answer, repeat (RFC 3507 §4.1: one
//! outstanding request per connection, no pipelining). The only place that touches the
//! socket for a connection.
//!
//! ```text
//!  Idle ──bytes──▶ Head ──REQMOD──▶ HttpHead ──▶ decide ──▶ Body(drain|keep) ──▶ respond ─┐
//!   ▲               │ OPTIONS ─────────────────────────────────────────────────▶ respond ─┤
//!   │               └ malformed ──▶ ICAP 4xx/505 + close                                  │
//!   └──────────────────────────────── keep-alive ◀─────────────────────────────────────────┘
//! ```

use std::time::{Instant, SystemTime};

use std::sync::atomic::Ordering::Relaxed;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout, timeout_at};

use crate::chunked::Decoder;

use crate::limits::{MAX_HTTP_HEAD, MESSAGE_TIMEOUT, WRITE_TIMEOUT};
use crate::policy::Outcome;
use crate::respond;
use crate::service::{Service, State};
use crate::wire::{parse_head, Method, RequestHead, Status, WireError};

/// How a connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The client closed between messages, or asked to close.
    Clean,
    /// Idle longer than the idle timeout.
    Idle,
    /// A message did not arrive in full within [`MESSAGE_TIMEOUT`].
    Slow,
    /// The client closed in the middle of a message.
    Truncated,
    /// A malformed message was answered with an ICAP error.
    Malformed(WireError),
    /// A socket error.
    Io,
}

enum Read {
    Data,
    Eof,
    TimedOut,
    Error,
}

struct Conn<S> {
    stream: S,
    buf: Vec<u8>,
    /// How long to wait for the next message: the idle timeout of the configuration
    /// generation the last message was handled under (at first, the one at accept), so the
    /// state is read once per message.
    idle: std::time::Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    async fn read_more(
        &mut self,
        deadline: Option<tokio::time::Instant>,
        idle: std::time::Duration,
    ) -> Read {
        self.buf.reserve(8192);
        let fut = self.stream.read_buf(&mut self.buf);
        let res = match deadline {
            Some(d) => timeout_at(d, fut).await,
            None => timeout(idle, fut).await,
        };
        match res {
            Err(_) => Read::TimedOut,
            Ok(Ok(0)) => Read::Eof,
            Ok(Ok(_)) => Read::Data,
            Ok(Err(_)) => Read::Error,
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> bool {
        matches!(
            timeout(WRITE_TIMEOUT, self.stream.write_all(bytes)).await,
            Ok(Ok(()))
        )
    }
}

/// Serves one connection until it closes, idles out or misbehaves.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(stream: S, svc: &Service) -> End {
    let mut c = Conn {
        stream,
        buf: Vec::with_capacity(8192),
        idle: svc.state().idle_timeout,
    };
    loop {
        match one_message(&mut c, svc).await {
            Ok(true) => continue,
            Ok(false) => return End::Clean,
            Err(end) => {
                if let End::Malformed(e) = &end {
                    svc.metrics.icap_errors.fetch_add(1, Relaxed);
                    let _ = c
                        .write(&respond::icap_error(&svc.state().info, e.status()))
                        .await;
                }
                let _ = c.stream.shutdown().await;
                return end;
            }
        }
    }
}

/// Handles one message. `Ok(true)`: keep the connection; `Ok(false)`: close cleanly.
async fn one_message<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Conn<S>,
    svc: &Service,
) -> Result<bool, End> {
    let mut deadline = None;
    let idle = c.idle;
    let head = loop {
        match parse_head(&c.buf).map_err(End::Malformed)? {
            Status::Complete(head, used) => {
                c.buf.drain(..used);
                break head;
            }
            Status::Partial => {
                let started = !c.buf.is_empty();
                if started && deadline.is_none() {
                    deadline = Some(tokio::time::Instant::now() + MESSAGE_TIMEOUT);
                }
                match c.read_more(deadline, idle).await {
                    Read::Data => {
                        if deadline.is_none() {
                            deadline = Some(tokio::time::Instant::now() + MESSAGE_TIMEOUT);
                        }
                    }
                    Read::Eof if !started => return Ok(false),
                    Read::Eof => return Err(End::Truncated),
                    Read::TimedOut if !started => return Err(End::Idle),
                    Read::TimedOut => return Err(End::Slow),
                    Read::Error => return Err(End::Io),
                }
            }
        }
    };
    let deadline = deadline.unwrap_or_else(|| tokio::time::Instant::now() + MESSAGE_TIMEOUT);
    // The configuration generation in force when the message arrived; a reload applies to
    // the next message, with no dropped connection.
    let st = svc.state();
    c.idle = st.idle_timeout;
    if !st.is_our_uri(&head.uri) {
        // Answered without reading a body, so the framing is unknown: close.
        svc.metrics.icap_errors.fetch_add(1, Relaxed);
        let _ = c.write(&respond::icap_error(&st.info, 404)).await;
        return Ok(false);
    }
    match head.method {
        Method::Other => {
            svc.metrics.icap_errors.fetch_add(1, Relaxed);
            let _ = c.write(&respond::icap_error(&st.info, 405)).await;
            Ok(false)
        }
        Method::Options => {
            svc.metrics.options.fetch_add(1, Relaxed);
            if !c.write(&respond::options(&st.info)).await {
                return Err(End::Io);
            }
            Ok(!head.close)
        }
        Method::Reqmod => reqmod(c, svc, &st, head, deadline).await,
    }
}

async fn fill<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Conn<S>,
    want: usize,
    deadline: tokio::time::Instant,
) -> Result<(), End> {
    while c.buf.len() < want {
        match c.read_more(Some(deadline), MESSAGE_TIMEOUT).await {
            Read::Data => {}
            Read::Eof => return Err(End::Truncated),
            Read::TimedOut => return Err(End::Slow),
            Read::Error => return Err(End::Io),
        }
    }
    Ok(())
}

async fn reqmod<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Conn<S>,
    svc: &Service,
    st: &State,
    head: RequestHead,
    deadline: tokio::time::Instant,
) -> Result<bool, End> {
    let enc = head
        .encapsulated
        .ok_or(End::Malformed(WireError::MissingEncapsulated))?;
    debug_assert!(enc.head_len <= MAX_HTTP_HEAD);
    fill(c, enc.head_len, deadline).await?;
    let http_bytes: Vec<u8> = c.buf.drain(..enc.head_len).collect();
    let started = Instant::now();

    // Parsed once: the decision and the adapted request both use it.
    let req = if http_bytes.is_empty() {
        None
    } else {
        Some(crate::http::parse(&http_bytes).map_err(End::Malformed)?)
    };
    if enc.body
        && req
            .as_ref()
            .is_some_and(|r| matches!(r.method, "GET" | "HEAD"))
    {
        return Err(End::Malformed(WireError::BodyOnGetOrHead));
    }
    let decided = req.map(|req| {
        let now = SystemTime::now();
        let outcome = st
            .policy
            .apply(req.method, req.target, || svc.credentials(now), now);
        (req, outcome)
    });
    let outcome = decided.as_ref().map(|(_, o)| o);
    let head_only = decided.as_ref().is_some_and(|(r, _)| r.method == "HEAD");
    // An echo (no 204 offered, outside a preview) is the only answer that needs the body.
    let unchanged = matches!(outcome, None | Some(Outcome::Unchanged(_)));
    let in_preview = head.preview.is_some();
    let keep_body = enc.body && unchanged && !head.allow_204 && !in_preview;
    let mut body = None;
    let mut too_large = false;
    if enc.body {
        let mut dec = Decoder::new(keep_body);
        loop {
            let used = dec.feed(&c.buf).map_err(End::Malformed)?;
            c.buf.drain(..used);
            if dec.done() {
                break;
            }
            fill(c, c.buf.len() + 1, deadline).await?;
        }
        if keep_body {
            match dec.into_body() {
                Ok(b) => body = Some(b),
                Err(_) => too_large = true,
            }
        }
    }

    let info = &st.info;
    let response = match decided.as_ref() {
        _ if too_large => respond::refusal(
            info,
            413,
            "The request body is too large to pass through s3squid-icap.",
            false,
        ),
        None | Some((_, Outcome::Unchanged(_))) if head.allow_204 || in_preview => {
            respond::no_content(info)
        }
        None | Some((_, Outcome::Unchanged(_))) => {
            respond::echo(info, &http_bytes, body.as_deref())
        }
        Some((_, Outcome::Refused(why))) => {
            respond::refusal(info, why.status(), why.message(), head_only)
        }
        Some((_, Outcome::Redirect(status, location))) => {
            respond::redirect(info, *status, location, head_only)
        }
        Some((req, Outcome::Adapted { url, host, .. })) => respond::adapted(info, req, url, host),
    };
    svc.metrics.record(outcome, started.elapsed());
    if let Some(Outcome::Unchanged(why)) = outcome {
        if why.degraded() {
            log::debug!(
                "degraded ({}): a routed request was left unchanged (204)",
                why.label()
            );
        }
    }
    if !c.write(&response).await {
        return Err(End::Io);
    }
    // After a preview that did not end the body, the client would send the rest only after
    // a 100; a final answer ends the message, so the connection stays in step.
    Ok(!head.close)
}
