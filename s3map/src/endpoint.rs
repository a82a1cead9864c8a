//! S3 endpoints: where a route's objects live, how their URLs are spelt, and the endpoint
//! identity that store IDs carry.

use crate::pct;
use crate::url::Scheme;

/// How a bucket appears in an object URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `scheme://bucket.endpoint/key`
    Virtual,
    /// `scheme://endpoint/bucket/key`
    Path,
}

/// An S3 endpoint: AWS's regional endpoint or a configured S3-compatible one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Lower-case host name or IP literal.
    pub host: String,
    /// Effective port.
    pub port: u16,
    /// Whether this is an AWS `amazonaws.com` endpoint (one bucket namespace).
    pub aws: bool,
    /// The endpoint identity used in store IDs: `aws` for every AWS endpoint (bucket names
    /// are one namespace there), else the lower-case authority. Computed once.
    pub id: String,
}

/// Why an endpoint string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Not `http://host[:port]` or `https://host[:port]`.
    #[error("endpoint must be http://HOST[:PORT] or https://HOST[:PORT] with no path, query or user info")]
    Malformed,
}

impl Endpoint {
    /// AWS's regional S3 endpoint for `region` (`https://s3.REGION.amazonaws.com`).
    pub fn aws_regional(region: &str) -> Self {
        Endpoint {
            scheme: Scheme::Https,
            host: format!("s3.{region}.amazonaws.com"),
            port: 443,
            aws: true,
            id: "aws".to_owned(),
        }
    }

    /// Parses `http(s)://host[:port]` with an optional trailing `/`.
    pub fn parse(s: &str) -> Result<Self, EndpointError> {
        let url = crate::url::RequestUrl::parse(s).map_err(|_| EndpointError::Malformed)?;
        if url.path != "/" || url.query.is_some() {
            return Err(EndpointError::Malformed);
        }
        let host = url.host.to_ascii_lowercase();
        let aws = host == "amazonaws.com" || host.ends_with(".amazonaws.com");
        let id = if aws {
            "aws".to_owned()
        } else {
            authority(&host, url.port, url.scheme)
        };
        Ok(Endpoint {
            scheme: url.scheme,
            host,
            port: url.port,
            aws,
            id,
        })
    }

    /// `host` or `host:port` when the port is not the scheme's default: exactly what Squid
    /// sends as `Host:` and therefore what SigV4 must sign.
    pub fn authority(&self) -> String {
        authority(&self.host, self.port, self.scheme)
    }

    /// Whether `scheme://host:port` (from a request URL) names this endpoint: the same
    /// host and port, or the same host on each scheme's default port (http and https of one
    /// service are the same objects).
    pub fn matches(&self, scheme: Scheme, host: &str, port: u16) -> bool {
        let same_port = self.port == port
            || (port == scheme.default_port() && self.port == self.scheme.default_port());
        same_port && self.host.eq_ignore_ascii_case(host)
    }

    /// The unsigned object URL in the given addressing style, key encoded as S3 expects.
    pub fn object_url(&self, bucket: &str, key: &str, addressing: Addressing) -> String {
        let mut url = String::with_capacity(self.host.len() + bucket.len() + key.len() * 3 + 16);
        url.push_str(self.scheme.as_str());
        url.push_str("://");
        if addressing == Addressing::Virtual {
            url.push_str(bucket);
            url.push('.');
        }
        url.push_str(&self.authority());
        url.push('/');
        if addressing == Addressing::Path {
            url.push_str(bucket);
            url.push('/');
        }
        pct::encode_into(&mut url, key.as_bytes(), true);
        url
    }
}

/// `host` or `host:port` when the port is not the scheme's default.
pub fn authority(host: &str, port: u16, scheme: Scheme) -> String {
    if port == scheme.default_port() {
        host.to_owned()
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_both_styles() {
        let ep = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(
            ep.object_url("photos", "a b+c", Addressing::Path),
            "http://127.0.0.1:9000/photos/a%20b%2Bc"
        );
        assert_eq!(ep.id, "127.0.0.1:9000");
        let aws = Endpoint::aws_regional("eu-west-1");
        assert_eq!(
            aws.object_url("photos", "k", Addressing::Virtual),
            "https://photos.s3.eu-west-1.amazonaws.com/k"
        );
        assert_eq!(aws.id, "aws");
        assert_eq!(
            Endpoint::parse("HTTP://Minio.Local:80/")
                .unwrap()
                .authority(),
            "minio.local"
        );
    }

    #[test]
    fn rejects_bad_endpoints() {
        for bad in [
            "127.0.0.1:9000",
            "http://h/path",
            "http://h/?q",
            "http://u@h",
            "ftp://h",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }
}
