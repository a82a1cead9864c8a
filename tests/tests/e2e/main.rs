//! End-to-end: real Squid 5.7 in each sample layout, s3squid-icap, s3squid-storeid,
//! s3squid-rewrite and s3s-fs verifying SigV4 with access keys. One test binary; each test
//! has its own temp dir and loopback ports and stops what it started, by PID.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure with its location

mod failures;
mod faults;
mod first_light;
mod helpers;
mod outage;

/// The bytes stored for a key: distinct per key, so a wrong object cannot pass.
pub fn body_of(key: &str) -> Vec<u8> {
    format!("object bytes of {key:?}\n").into_bytes()
}

/// The public path of a key under the `photos` route.
pub fn public_path(key: &str) -> String {
    format!("/photos/{}", s3map::pct::encode_path(key))
}

/// An `auth = "none"` route on the anonymous s3s-fs (`StackOptions::anonymous_s3`).
pub const PUBLIC_ROUTE: &str = r#"
[[route]]
name = "public"
public = "http://images.example.com/public/"
bucket = "open"
region = "us-east-1"
endpoint = "ANON_ENDPOINT"
addressing = "path"
auth = "none"
"#;
