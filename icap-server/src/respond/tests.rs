use super::*;
use crate::framing::wire::find;

fn info() -> ServiceInfo {
    ServiceInfo {
        istag: "\"t-1\"".into(),
        options_ttl: 300,
        max_connections: 7,
    }
}

fn split(resp: &[u8]) -> (String, &[u8]) {
    let end = find(resp, b"\r\n\r\n").unwrap() + 4;
    (
        String::from_utf8(resp[..end].to_vec()).unwrap(),
        &resp[end..],
    )
}

/// The offset in `Encapsulated: …, <kind>=N`.
fn offset(head: &str, kind: &str) -> usize {
    let v = head
        .lines()
        .find(|l| l.starts_with("Encapsulated: "))
        .unwrap();
    let at = v.find(&format!("{kind}=")).unwrap() + kind.len() + 1;
    v[at..].split(',').next().unwrap().trim().parse().unwrap()
}

#[test]
fn options_advertise_what_is_enforced() {
    let o = options(&info());
    let (head, rest) = split(&o);
    assert!(rest.is_empty());
    for want in [
        "ICAP/1.0 200 OK\r\n",
        "Methods: REQMOD\r\n",
        "ISTag: \"t-1\"\r\n",
        "Max-Connections: 7\r\n",
        "Allow: 204\r\n",
        "Options-TTL: 300\r\n",
        "Encapsulated: null-body=0\r\n",
    ] {
        assert!(head.contains(want), "{want} in {head}");
    }
    for absent in ["Preview", "Transfer-", "Date:"] {
        assert!(!head.contains(absent), "{absent}");
    }
}

#[test]
fn adapted_request_offsets_and_headers() {
    let raw = b"GET http://images.example.com/photos/a HTTP/1.1\r\nUser-Agent: t\r\nAuthorization: AWS4 x\r\nX-Amz-Security-Token: evil\r\nx-amz-date: 1\r\nRange: bytes=0-1\r\nVIA: 1.1 s3squid (squid)\r\nHost: images.example.com\r\n\r\n";
    let req = crate::framing::http::parse(raw).unwrap();
    let resp = adapted(
        &info(),
        &req,
        "http://127.0.0.1:9000/photos/a?X-Amz-Signature=1",
        "127.0.0.1:9000",
    );
    let (head, http) = split(&resp);
    assert!(head.starts_with("ICAP/1.0 200 OK\r\nISTag: \"t-1\"\r\n"));
    assert_eq!(offset(&head, "null-body"), http.len());
    let http = String::from_utf8(http.to_vec()).unwrap();
    assert_eq!(
        http,
        "GET http://127.0.0.1:9000/photos/a?X-Amz-Signature=1 HTTP/1.1\r\nUser-Agent: t\r\nRange: bytes=0-1\r\nHost: 127.0.0.1:9000\r\n\r\n"
    );
}

#[test]
fn refusal_is_request_satisfaction() {
    let resp = refusal(&info(), 405, "Only GET and HEAD are served here.", false);
    let (head, rest) = split(&resp);
    let body_at = offset(&head, "res-body");
    let (http_head, chunks) = rest.split_at(body_at);
    let http_head = String::from_utf8(http_head.to_vec()).unwrap();
    assert!(http_head.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
    assert!(http_head.contains("Allow: GET, HEAD\r\n") && http_head.ends_with("\r\n\r\n"));
    let mut d = crate::framing::chunked::Decoder::default();
    assert_eq!(d.feed(chunks).unwrap(), chunks.len());
    let body = d.into_body().unwrap();
    let len: usize = http_head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(body.len(), len);
    let r = refusal(&info(), 403, "no", true);
    let (head, rest) = split(&r);
    assert_eq!(offset(&head, "null-body"), rest.len());
}

#[test]
fn no_content_and_errors_have_istag_and_nothing_after() {
    let n = no_content(&info());
    let (head, rest) = split(&n);
    assert_eq!(head, "ICAP/1.0 204 No Content\r\nISTag: \"t-1\"\r\n\r\n");
    assert!(rest.is_empty());
    let (head, _) = split(&icap_error(&info(), 400));
    assert!(head.contains("ISTag") && head.contains("Connection: close"));
    let e = echo(&info(), b"GET http://h/ HTTP/1.1\r\n\r\n", Some(b"abc"));
    let (head, rest) = split(&e);
    assert_eq!(offset(&head, "req-body"), 26);
    assert_eq!(&rest[26..], b"3\r\nabc\r\n0\r\n\r\n");
}
