use super::*;

/// Squid 5.7's OPTIONS request (docs/design.md#icap).
pub(crate) const SQUID_OPTIONS: &[u8] =
    b"OPTIONS icap://127.0.0.1:1344/s3sign ICAP/1.0\r\nHost: 127.0.0.1:1344\r\nAllow: 206, trailers\r\n\r\n";

/// Squid 5.7's REQMOD for a GET (docs/design.md#icap), head only.
pub(crate) const SQUID_REQMOD_HEAD: &[u8] = b"REQMOD icap://127.0.0.1:1344/s3sign ICAP/1.0\r\nHost: 127.0.0.1:1344\r\nDate: Thu, 01 Aug 2024 10:00:00 GMT\r\nEncapsulated: req-hdr=0, null-body=155\r\nAllow: 204, trailers\r\n\r\n";

#[test]
fn squid_messages_parse() {
    let Status::Complete(h, used) = parse_head(SQUID_OPTIONS).unwrap() else {
        panic!()
    };
    assert_eq!(used, SQUID_OPTIONS.len());
    assert_eq!(h.method, Method::Options);
    assert_eq!(h.encapsulated, None);
    let Status::Complete(h, used) = parse_head(SQUID_REQMOD_HEAD).unwrap() else {
        panic!()
    };
    assert_eq!(used, SQUID_REQMOD_HEAD.len());
    assert_eq!(h.method, Method::Reqmod);
    assert_eq!(h.uri, "icap://127.0.0.1:1344/s3sign");
    assert_eq!(
        h.encapsulated,
        Some(Encapsulated {
            head_len: 155,
            body: false
        })
    );
    assert!(h.allow_204 && !h.close && h.preview.is_none());
}

#[test]
fn every_prefix_needs_more() {
    for msg in [SQUID_OPTIONS, SQUID_REQMOD_HEAD] {
        for cut in 0..msg.len() {
            assert_eq!(parse_head(&msg[..cut]), Ok(Status::Partial), "cut {cut}");
        }
    }
}

fn err(msg: &str) -> WireError {
    match parse_head(msg.as_bytes()) {
        Err(e) => e,
        Ok(s) => panic!("{msg:?} parsed: {s:?}"),
    }
}

#[test]
fn malformed_heads() {
    let r = "REQMOD icap://h/s3sign ICAP/1.0\r\n";
    let cases = [
        ("REQMOD icap://h/s3sign\r\n\r\n", WireError::RequestLine),
        (
            "REQMOD  icap://h/s3sign ICAP/1.0\r\n\r\n",
            WireError::RequestLine,
        ),
        (
            "reqmod icap://h/s3sign ICAP/1.0\r\n\r\n",
            WireError::RequestLine,
        ),
        (
            "REQMOD icap://h/s3sign HTTP/1.1\r\n\r\n",
            WireError::RequestLine,
        ),
        (
            "REQMOD icap://h/s3sign ICAP/2.0\r\n\r\n",
            WireError::Version,
        ),
        (
            "REQMOD icap://h/s3sign ICAP/1.0 x\r\n\r\n",
            WireError::RequestLine,
        ),
        ("\r\n\r\n", WireError::RequestLine),
        (&format!("{r}\r\n"), WireError::MissingEncapsulated),
        (&format!("{r}NoColon\r\n\r\n"), WireError::HeaderLine),
        (&format!("{r}: empty-name\r\n\r\n"), WireError::HeaderLine),
        (
            &format!("{r}Encapsulated: req-hdr=0\r\n\r\n"),
            WireError::Encapsulated,
        ),
        (
            &format!("{r}Encapsulated: req-hdr=5, null-body=9\r\n\r\n"),
            WireError::Encapsulated,
        ),
        (
            &format!("{r}Encapsulated: req-hdr=0, null-body=0\r\n\r\n"),
            WireError::Encapsulated,
        ),
        (
            &format!("{r}Encapsulated: null-body=10, req-hdr=0\r\n\r\n"),
            WireError::Encapsulated,
        ),
        (
            &format!("{r}Encapsulated: req-hdr=0, res-body=10\r\n\r\n"),
            WireError::Encapsulated,
        ),
        (
            &format!("{r}Encapsulated: res-hdr=0, null-body=10\r\n\r\n"),
            WireError::Encapsulated,
        ),
        (
            &format!("{r}Encapsulated: req-hdr=0, null-body=-1\r\n\r\n"),
            WireError::Encapsulated,
        ),
        (
            &format!("{r}Encapsulated: req-hdr=0, null-body=0x10\r\n\r\n"),
            WireError::Encapsulated,
        ),
        (
            &format!("{r}Encapsulated: req-hdr=0, null-body=99999999999\r\n\r\n"),
            WireError::Encapsulated,
        ),
        (
            &format!("{r}Encapsulated: req-hdr=0,\r\n\r\n"),
            WireError::Encapsulated,
        ),
        (
            &format!("{r}Encapsulated: null-body=0\r\nEncapsulated: null-body=0\r\n\r\n"),
            WireError::DuplicateHeader,
        ),
        (
            &format!("{r}Encapsulated: null-body=0\r\nPreview: x\r\n\r\n"),
            WireError::Preview,
        ),
        (
            "OPTIONS icap://h/s3sign ICAP/1.0\r\nEncapsulated: opt-body=0\r\n\r\n",
            WireError::Encapsulated,
        ),
        (
            "REQMOD icap://h/s ICAP/1.0\nHost: x\n\n",
            WireError::HeaderLine,
        ),
    ];
    for (msg, want) in cases {
        assert_eq!(err(msg), want, "{msg:?}");
    }
    let many = format!("{r}{}\r\n", "X-A: b\r\n".repeat(MAX_ICAP_HEADERS + 1));
    assert_eq!(err(&many), WireError::TooManyHeaders);
    let huge = format!("{r}X-A: {}", "b".repeat(MAX_ICAP_HEAD));
    assert_eq!(err(&huge), WireError::HeadTooLong);
    assert_eq!(
        parse_head(b"REQMOD icap://h/s ICAP/1.0\r\nX: \xff\r\n\r\n"),
        Err(WireError::HeaderLine)
    );
}

#[test]
fn other_methods_and_options_forms() {
    let Status::Complete(h, _) =
        parse_head(b"RESPMOD icap://h/s ICAP/1.0\r\nEncapsulated: null-body=0\r\n\r\n").unwrap()
    else {
        panic!()
    };
    assert_eq!(h.method, Method::Other);
    assert!(matches!(
        parse_head(b"OPTIONS icap://h/s ICAP/1.0\r\nEncapsulated: null-body=0\r\nConnection: close\r\n\r\n"),
        Ok(Status::Complete(RequestHead { close: true, .. }, _))
    ));
}

/// The grammars run on bytes; what they cut out of a UTF-8 head stays whole characters.
#[test]
fn non_ascii_uris_and_values_come_back_whole() {
    let Status::Complete(h, _) = parse_head(
        "REQMOD icap://h/s3sign/été ICAP/1.0\r\nX-Note: \u{a0}café \r\nEncapsulated: null-body=0\r\n\r\n"
            .as_bytes(),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(h.uri, "icap://h/s3sign/été");
    assert_eq!(
        parse_head("R\u{c9}QMOD icap://h/s ICAP/1.0\r\n\r\n".as_bytes()),
        Err(WireError::RequestLine)
    );
    assert_eq!(
        parse_head("REQMOD icap://h/s ICAP/1.0\r\nNäme: v\r\n\r\n".as_bytes()),
        Err(WireError::HeaderLine)
    );
}

/// Found by the fuzz target `icap_head`: a bare LF in the ICAP URI was accepted once the
/// head was complete, though every prefix holding it was refused (HeaderLine); CR and NUL
/// there were accepted too.
#[test]
fn a_bare_lf_cr_or_nul_in_the_request_line_is_malformed() {
    for (uri, want) in [
        ("icap://h/s3\nsign", WireError::HeaderLine),
        ("icap://h/s3\rsign", WireError::RequestLine),
        ("icap://h/s3\0sign", WireError::RequestLine),
    ] {
        let msg = format!("OPTIONS {uri} ICAP/1.0\r\nHost: h\r\n\r\n");
        assert_eq!(err(&msg), want, "{uri:?}");
        let lf = msg.find('\n').unwrap();
        if lf < msg.find("\r\n").unwrap() {
            assert_eq!(
                parse_head(&msg.as_bytes()[..lf + 1]),
                Err(WireError::HeaderLine)
            );
        }
    }
}
