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

use s3map::decide::{Method, Refusal};

use crate::answer::{Answer, Offers};
use crate::framing::chunked::Decoder;
use crate::framing::http::HttpRequest;
use crate::framing::wire::{self, parse_head, RequestHead, Status, WireError};
use crate::limits::{MAX_HTTP_HEAD, MESSAGE_TIMEOUT, WRITE_TIMEOUT};
use crate::policy::Outcome;
use crate::respond;
use crate::service::{Service, State};

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

/// What waiting for more bytes from the client gave.
enum Arrival {
    /// Some bytes, appended to the buffer.
    Data,
    /// The client closed its side.
    Eof,
    /// Nothing within the wait.
    TimedOut,
    /// A socket error.
    Error,
    /// The server is shutting down, and the connection is between messages.
    Draining,
}

/// Tells connections that the server is shutting down: each finishes the message it is in,
/// then closes; one waiting between messages closes at once. `None`: never.
pub type Drain = Option<tokio::sync::watch::Receiver<bool>>;

struct Conn<S> {
    stream: S,
    buf: Vec<u8>,
    /// How long to wait for the next message: the idle timeout of the configuration
    /// generation the last message was handled under (at first, the one at accept), so the
    /// state is read once per message.
    idle: std::time::Duration,
    drain: Drain,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Whether the server is shutting down.
    fn draining(&self) -> bool {
        self.drain.as_ref().is_some_and(|d| *d.borrow())
    }

    /// Reads more bytes: until `deadline` within a message, or for up to `idle` between
    /// messages, where the server's shutdown also ends the wait.
    async fn read_more(
        &mut self,
        deadline: Option<tokio::time::Instant>,
        idle: std::time::Duration,
    ) -> Arrival {
        self.buf.reserve(8192);
        let fut = self.stream.read_buf(&mut self.buf);
        let res = match (deadline, self.drain.as_mut()) {
            (Some(d), _) => timeout_at(d, fut).await,
            (None, None) => timeout(idle, fut).await,
            (None, Some(drain)) => tokio::select! {
                r = timeout(idle, fut) => r,
                _ = drain.wait_for(|&d| d) => return Arrival::Draining,
            },
        };
        match res {
            Err(_) => Arrival::TimedOut,
            Ok(Ok(0)) => Arrival::Eof,
            Ok(Ok(_)) => Arrival::Data,
            Ok(Err(_)) => Arrival::Error,
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
    serve_until_drained(stream, svc, None).await
}

/// [`serve`], and when `drain` turns true: finishes the message in flight, if any, then
/// closes (a connection waiting between messages closes at once), so that Squid stops
/// sending here and its bypass takes over without waiting for a timeout.
pub async fn serve_until_drained<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    svc: &Service,
    drain: Drain,
) -> End {
    let mut c = Conn {
        stream,
        buf: Vec::with_capacity(8192),
        idle: svc.state().idle_timeout,
        drain,
    };
    loop {
        match one_message(&mut c, svc).await {
            Ok(true) => continue,
            Ok(false) => {
                let _ = c.stream.shutdown().await;
                return End::Clean;
            }
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
    if c.buf.is_empty() && c.draining() {
        return Ok(false);
    }
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
                    Arrival::Data => {
                        if deadline.is_none() {
                            deadline = Some(tokio::time::Instant::now() + MESSAGE_TIMEOUT);
                        }
                    }
                    Arrival::Eof if !started => return Ok(false),
                    Arrival::Draining => return Ok(false),
                    Arrival::Eof => return Err(End::Truncated),
                    Arrival::TimedOut if !started => return Err(End::Idle),
                    Arrival::TimedOut => return Err(End::Slow),
                    Arrival::Error => return Err(End::Io),
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
        wire::Method::Other => {
            svc.metrics.icap_errors.fetch_add(1, Relaxed);
            let _ = c.write(&respond::icap_error(&st.info, 405)).await;
            Ok(false)
        }
        wire::Method::Options => {
            svc.metrics.options.fetch_add(1, Relaxed);
            if !c.write(&respond::options(&st.info)).await {
                return Err(End::Io);
            }
            Ok(!head.close)
        }
        wire::Method::Reqmod => reqmod(c, svc, &st, head, deadline).await,
    }
}

async fn fill<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Conn<S>,
    want: usize,
    deadline: tokio::time::Instant,
) -> Result<(), End> {
    while c.buf.len() < want {
        match c.read_more(Some(deadline), MESSAGE_TIMEOUT).await {
            // Within a message the shutdown never interrupts (read_more with a deadline
            // does not report it): the message in flight is finished.
            Arrival::Data | Arrival::Draining => {}
            Arrival::Eof => return Err(End::Truncated),
            Arrival::TimedOut => return Err(End::Slow),
            Arrival::Error => return Err(End::Io),
        }
    }
    Ok(())
}

/// One REQMOD, as its steps: read the HTTP head → parse → decide → choose the answer →
/// read (or drain) the body → encode → write. Only the reads and the write touch the
/// socket; the rest is [`crate::framing::http`], [`crate::policy`] and [`crate::answer`].
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
    // Once the ICAP framing is valid, whatever the HTTP bytes inside hold is the client's
    // doing and ends as an HTTP answer to that client, never as an ICAP error (Squid counts
    // those against the service and suspends it): docs/design.md#icap.
    let http_head = read_http_head(c, enc.head_len, deadline).await?;
    let started = Instant::now();

    let request = http_head.request();
    let outcome = match &request {
        Err(why) => Some(Outcome::Refused(*why)),
        Ok(req) => req.as_ref().map(|req| {
            let now = SystemTime::now();
            st.policy.apply(
                Method::from_token(req.method),
                req.target,
                || svc.credentials(now),
                now,
            )
        }),
    };
    let offers = Offers {
        no_content: head.allow_204,
        preview: head.preview.is_some(),
    };
    let mut answer = match &request {
        Err(why) => Answer::refused(*why, http_head.is_head()),
        Ok(req) => Answer::choose(offers, req.as_ref().zip(outcome.as_ref())),
    };
    let body = if enc.body {
        read_body(c, answer.needs_body(), deadline).await?
    } else {
        Body::None
    };
    let body = match body {
        Body::None => None,
        Body::Kept(b) => Some(b),
        Body::TooLarge => {
            answer = Answer::body_too_large();
            None
        }
    };
    let response = answer.encode(&st.info, http_head.bytes(), body.as_deref());

    svc.metrics.record(outcome.as_ref(), started.elapsed());
    if let Some(Outcome::Unchanged(why)) = &outcome {
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

/// The encapsulated HTTP head as read.
enum HttpHead {
    /// Its bytes (empty when the message has none).
    Kept(Vec<u8>),
    /// Over [`MAX_HTTP_HEAD`]: read past, not kept.
    TooLarge {
        /// It starts with `HEAD ` (the answer then has no body).
        head: bool,
    },
}

impl HttpHead {
    /// The HTTP request in it (`None`: the message has no head), or why it is refused
    /// before any policy looks at it: too large, or not readable as HTTP.
    fn request(&self) -> Result<Option<HttpRequest<'_>>, Refusal> {
        match self {
            HttpHead::Kept(b) if b.is_empty() => Ok(None),
            HttpHead::Kept(b) => crate::framing::http::parse(b)
                .map(Some)
                .map_err(|_| Refusal::Unreadable),
            HttpHead::TooLarge { .. } => Err(Refusal::HeadTooLarge),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            HttpHead::Kept(b) => b,
            HttpHead::TooLarge { .. } => &[],
        }
    }

    /// Whether the request is a HEAD, going by its first bytes (the answer to a HEAD has no
    /// body), whether or not the rest can be read.
    fn is_head(&self) -> bool {
        match self {
            HttpHead::Kept(b) => b.starts_with(b"HEAD "),
            HttpHead::TooLarge { head } => *head,
        }
    }
}

/// Reads the `len` bytes of the encapsulated HTTP head: kept up to [`MAX_HTTP_HEAD`],
/// read past beyond it (the buffer never holds more than one read of it).
async fn read_http_head<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Conn<S>,
    len: usize,
    deadline: tokio::time::Instant,
) -> Result<HttpHead, End> {
    if len <= MAX_HTTP_HEAD {
        fill(c, len, deadline).await?;
        let bytes: Vec<u8> = c.buf.drain(..len).collect();
        // Where the head ends is the ICAP peer's framing (`Encapsulated`); what is in it,
        // the client's.
        if !bytes.is_empty() && !bytes.ends_with(b"\r\n\r\n") {
            return Err(End::Malformed(WireError::HttpHead));
        }
        return Ok(HttpHead::Kept(bytes));
    }
    fill(c, 5, deadline).await?;
    let head = c.buf.starts_with(b"HEAD ");
    let mut left = len;
    loop {
        let take = left.min(c.buf.len());
        c.buf.drain(..take);
        left -= take;
        if left == 0 {
            return Ok(HttpHead::TooLarge { head });
        }
        fill(c, 1, deadline).await?;
    }
}

/// What reading an encapsulated body left.
enum Body {
    /// Read and dropped (the answer does not need it).
    None,
    /// Read and kept.
    Kept(Vec<u8>),
    /// Kept, until it grew past [`crate::limits::MAX_BODY`].
    TooLarge,
}

/// Reads the chunked body to its end, keeping it only if `keep`.
async fn read_body<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Conn<S>,
    keep: bool,
    deadline: tokio::time::Instant,
) -> Result<Body, End> {
    let mut dec = Decoder::new(keep);
    loop {
        let used = dec.feed(&c.buf).map_err(End::Malformed)?;
        c.buf.drain(..used);
        if dec.done() {
            break;
        }
        fill(c, c.buf.len() + 1, deadline).await?;
    }
    if !keep {
        return Ok(Body::None);
    }
    Ok(match dec.into_body() {
        Ok(b) => Body::Kept(b),
        Err(_) => Body::TooLarge,
    })
}
