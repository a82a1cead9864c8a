//! The absolute-form request URL as Squid hands it over (ICAP encapsulated request line,
//! helper input line), split without decoding anything.

/// A URL scheme s3squid routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http`
    Http,
    /// `https`
    Https,
}

impl Scheme {
    /// The scheme's default port, elided when URLs are compared or built.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// An `http(s)://host[:port]/path?query` URL, borrowed from the input.
///
/// The host is kept as given; [`RequestUrl::host_eq`] compares it case-insensitively.
/// The path is raw (still percent-encoded) and never empty (`/` when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestUrl<'a> {
    /// The scheme.
    pub scheme: Scheme,
    /// Host as written (case preserved), without brackets' removal for IPv6.
    pub host: &'a str,
    /// The effective port (the scheme's default when absent).
    pub port: u16,
    /// Raw path, starting with `/`.
    pub path: &'a str,
    /// Raw query after `?`, if there was a `?`.
    pub query: Option<&'a str>,
}

/// Why a string is not a URL s3squid routes. None of these is an error for the client:
/// such URLs are simply not ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    /// Not `http://` or `https://` (CONNECT's `host:port`, `ftp://`, origin-form…).
    NotHttp,
    /// An empty host, user info, a bad port or a fragment.
    BadAuthority,
    /// Longer than [`crate::limits::MAX_INPUT_URL_BYTES`].
    TooLong,
}

impl<'a> RequestUrl<'a> {
    /// Splits an absolute-form URL.
    pub fn parse(input: &'a str) -> Result<Self, UrlError> {
        if input.len() > crate::limits::MAX_INPUT_URL_BYTES {
            return Err(UrlError::TooLong);
        }
        let (scheme, rest) = if let Some(r) = strip_prefix_ci(input, "http://") {
            (Scheme::Http, r)
        } else if let Some(r) = strip_prefix_ci(input, "https://") {
            (Scheme::Https, r)
        } else {
            return Err(UrlError::NotHttp);
        };
        let auth_end = memchr::memchr3(b'/', b'?', b'#', rest.as_bytes()).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(auth_end);
        if memchr::memchr(b'@', authority.as_bytes()).is_some()
            || memchr::memchr(b'#', tail.as_bytes()).is_some()
        {
            return Err(UrlError::BadAuthority);
        }
        let (host, port) = split_host_port(authority, scheme)?;
        let (path, query) = match memchr::memchr(b'?', tail.as_bytes()) {
            Some(q) => (&tail[..q], Some(&tail[q + 1..])),
            None => (tail, None),
        };
        let path = if path.is_empty() { "/" } else { path };
        Ok(RequestUrl {
            scheme,
            host,
            port,
            path,
            query,
        })
    }

    /// Case-insensitive host comparison.
    pub fn host_eq(&self, host: &str) -> bool {
        self.host.eq_ignore_ascii_case(host)
    }
}

/// The (raw) name of a `name=value` query pair.
pub fn param_name(pair: &str) -> &str {
    match memchr::memchr(b'=', pair.as_bytes()) {
        Some(i) => &pair[..i],
        None => pair,
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Splits `host[:port]` (IPv6 literals in brackets) and checks both parts.
pub(crate) fn split_host_port(authority: &str, scheme: Scheme) -> Result<(&str, u16), UrlError> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']').ok_or(UrlError::BadAuthority)?;
        let (h, rest) = authority.split_at(close + 1);
        match rest.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if rest.is_empty() => (h, None),
            None => return Err(UrlError::BadAuthority),
        }
    } else {
        match memchr::memrchr(b':', authority.as_bytes())
            .map(|i| (&authority[..i], &authority[i + 1..]))
        {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty()
        || !host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'[' | b']' | b':')
        })
    {
        return Err(UrlError::BadAuthority);
    }
    let port = match port {
        None | Some("") => scheme.default_port(),
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse::<u16>().map_err(|_| UrlError::BadAuthority)?
        }
        Some(_) => return Err(UrlError::BadAuthority),
    };
    if port == 0 {
        return Err(UrlError::BadAuthority);
    }
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        let u = RequestUrl::parse("http://Images.Example.com:80/photos/a%20b?x=1").unwrap();
        assert_eq!(u.scheme, Scheme::Http);
        assert!(u.host_eq("images.example.com"));
        assert_eq!(u.port, 80);
        assert_eq!(u.path, "/photos/a%20b");
        assert_eq!(u.query, Some("x=1"));
        let u = RequestUrl::parse("HTTPS://[::1]:9000").unwrap();
        assert_eq!(
            (u.host, u.port, u.path, u.query),
            ("[::1]", 9000, "/", None)
        );
    }

    #[test]
    fn not_ours() {
        assert_eq!(
            RequestUrl::parse("images.example.com:443"),
            Err(UrlError::NotHttp)
        );
        assert_eq!(RequestUrl::parse("ftp://x/"), Err(UrlError::NotHttp));
        assert_eq!(RequestUrl::parse("/photos/a"), Err(UrlError::NotHttp));
        for bad in [
            "http:///a",
            "http://u@h/a",
            "http://h:99999/",
            "http://h:0/",
            "http://h:x/",
            "http://h/a#f",
            "http://h h/",
            "http://[::1/",
            "http://[::1]x/",
        ] {
            assert_eq!(RequestUrl::parse(bad), Err(UrlError::BadAuthority), "{bad}");
        }
        let long = format!(
            "http://h/{}",
            "a".repeat(crate::limits::MAX_INPUT_URL_BYTES)
        );
        assert_eq!(RequestUrl::parse(&long), Err(UrlError::TooLong));
    }
}
