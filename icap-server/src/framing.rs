//! ICAP framing: the bytes of a message recognised as a whole, with no I/O. Each parser
//! takes a buffer and says complete (value, bytes used), need more, or exactly what is
//! wrong; [`crate::connection`] owns the socket and feeds them.
//!
//! - [`wire`]: the ICAP request head and its `Encapsulated` header (RFC 3507 §4.3, §4.4);
//! - [`http`]: the encapsulated HTTP request head;
//! - [`chunked`]: the encapsulated body's chunked coding, bounded.

pub mod chunked;
pub mod http;
pub mod wire;
