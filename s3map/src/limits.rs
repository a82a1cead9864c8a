//! Named limits shared by every program. Each one is enforced where bytes come in.

/// S3's limit on an object key, in bytes of UTF-8 (after percent-decoding).
pub const MAX_KEY_BYTES: usize = 1024;

/// Squid's `MAX_URL`: a request whose URL is longer cannot be handled by Squid
/// (`src/defines.h` in Squid 5.7). An adapted URL over this is refused with 400
/// before Squid ever sees it.
pub const MAX_URL_BYTES: usize = 8192;

/// The longest request-line URL the mapping will look at. Squid's own helper line limit
/// is `MAX_URL + 1024`; anything longer than this cannot be a URL Squid accepted.
pub const MAX_INPUT_URL_BYTES: usize = MAX_URL_BYTES + 1024;

/// Longest presign lifetime SigV4 allows (7 days), and the default s3squid uses.
pub const MAX_PRESIGN_EXPIRES_SECS: u32 = 604_800;
/// Default `X-Amz-Expires` for presigned URLs.
pub const DEFAULT_PRESIGN_EXPIRES_SECS: u32 = 300;

/// Most query parameters looked at in one URL; more is refused.
pub const MAX_QUERY_PARAMS: usize = 64;
