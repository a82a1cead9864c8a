//! Every bound on what a peer can make the service hold or wait for.

use std::time::Duration;

/// Largest ICAP header section (request line + headers + CRLF CRLF). Squid's own ICAP
/// heads are a few hundred bytes; its parser caps heads at 64 KiB (`reply_header_max_size`).
pub const MAX_ICAP_HEAD: usize = 16 * 1024;
/// Most ICAP header fields in one message.
pub const MAX_ICAP_HEADERS: usize = 32;
/// Largest encapsulated HTTP request head (Squid's `request_header_max_size` is 64 KiB).
pub const MAX_HTTP_HEAD: usize = 64 * 1024;
/// Most header fields in the encapsulated HTTP request.
pub const MAX_HTTP_HEADERS: usize = 128;
/// Longest chunk-size line of an encapsulated body (size, extensions, CRLF).
pub const MAX_CHUNK_LINE: usize = 1024;
/// Most encapsulated body bytes kept from one request. s3squid never needs a body: it
/// walks it only to keep the connection's framing, and keeps it only to echo a request it
/// leaves unchanged when Squid did not offer `Allow: 204`. Squid offers it whenever it can
/// keep a copy of the body itself (no body, or a known size under 64 KiB,
/// docs/design.md#icap), so this is the most an echo can need beyond chunked bodies of
/// unknown size; a larger kept body is answered 413. Held at most once per connection:
/// the worst case is `max_connections` × this, 512 × 64 KiB = 32 MiB by default
/// (docs/operations.md#what-a-hostile-client-can-and-cannot-do).
pub const MAX_BODY: usize = 64 * 1024;
/// Largest trailer section after the last chunk.
pub const MAX_TRAILERS: usize = 4 * 1024;
/// How long a started message may take to arrive in full (slow senders).
pub const MESSAGE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a response write may block.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for open connections to finish their current message.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
