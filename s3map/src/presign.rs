//! SigV4 query presigning for S3, a pure function of (method, URL, region, credentials,
//! time, lifetime).
//!
//! S3's settings, not `aws-sigv4`'s defaults: single percent-encoding and no path
//! normalisation (S3 keeps `.`, `..` and `//` in keys literally), payload
//! `UNSIGNED-PAYLOAD`, only `host` signed, the signature and session token in the query.
//! The query parameters are emitted in botocore's order so URLs compare byte for byte.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;

use crate::decide::Method;

/// Why a URL could not be presigned. Carries no secret.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The signer rejected its input (a malformed URL or region).
    #[error("cannot presign: {0}")]
    Signer(String),
}

/// The query parameters a SigV4 presigned URL carries, in the order botocore emits them
/// (and [`presign`] writes them). [`crate::storeid::SIGNATURE_PARAMS`] starts with these.
pub const SIGV4_QUERY_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
];

/// Presigns `url` (an unsigned S3 object URL, path already percent-encoded the S3 way, with
/// an optional query of allow-listed parameters) for `method`.
pub fn presign(
    method: Method,
    url: &str,
    region: &str,
    creds: &Credentials,
    now: SystemTime,
    expires: Duration,
) -> Result<String, SignError> {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires);
    let identity = creds.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| SignError::Signer(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        method.as_str(),
        url,
        std::iter::empty(),
        SignableBody::UnsignedPayload,
    )
    .map_err(|e| SignError::Signer(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| SignError::Signer(e.to_string()))?
        .into_parts();
    let mut added: Vec<(&str, std::borrow::Cow<'_, str>)> = instructions.params().to_vec();
    added.sort_by_key(|(name, _)| {
        SIGV4_QUERY_PARAMS
            .iter()
            .position(|p| p == name)
            .unwrap_or(SIGV4_QUERY_PARAMS.len())
    });
    let mut out = String::with_capacity(url.len() + 512);
    out.push_str(url);
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (name, value) in added {
        out.push(sep);
        sep = '&';
        out.push_str(name);
        out.push('=');
        crate::pct::encode_into(&mut out, value.as_bytes(), false);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
