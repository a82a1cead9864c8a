use super::*;

#[test]
fn splits_lines_with_and_without_channel() {
    let r =
        parse_line(b"17 http://h/a 192.0.2.7/192.0.2.7 - GET myip=10.0.0.1 myport=3128").unwrap();
    assert_eq!(r.channel, Some("17"));
    assert_eq!(r.url, "http://h/a");
    assert_eq!(
        r.extras,
        "192.0.2.7/192.0.2.7 - GET myip=10.0.0.1 myport=3128"
    );
    let r = parse_line(b"http://h/a\r").unwrap();
    assert_eq!((r.channel, r.url, r.extras), (None, "http://h/a", ""));
    let r = parse_line(b"18446744073709551615 http://h/a").unwrap();
    assert_eq!(r.channel, Some("18446744073709551615"));
}

#[test]
fn bad_lines() {
    assert_eq!(parse_line(b""), Err(LineError::Empty));
    assert_eq!(parse_line(b"5"), Err(LineError::Empty));
    assert_eq!(parse_line(b"5 "), Err(LineError::Empty));
    assert_eq!(parse_line(b"5 http://h/\xff"), Err(LineError::NotUtf8));
    assert_eq!(parse_line(b"5 http://h/\x00a"), Err(LineError::Control));
    assert_eq!(parse_line(b"http://h/\x1b[2J"), Err(LineError::Control));
    let long = vec![b'a'; MAX_HELPER_LINE + 1];
    assert_eq!(parse_line(&long), Err(LineError::TooLong));
    assert_eq!(channel_of(b"42 http://h/\xff"), Some("42"));
    assert_eq!(channel_of(b"http://h/"), None);
}

#[test]
fn replies_are_quoted_and_escaped() {
    let enc = |c: Option<&str>, r: Reply| {
        let mut v = Vec::new();
        encode(&mut v, c, &r);
        String::from_utf8(v).unwrap()
    };
    assert_eq!(
        enc(Some("3"), Reply::StoreId("http://x/a%20b".into())),
        "3 OK store-id=\"http://x/a%20b\"\n"
    );
    assert_eq!(enc(None, Reply::Err), "ERR\n");
    assert_eq!(
        enc(None, Reply::Bh("a \"b\" \\c\nd".into())),
        "BH message=\"a \\\"b\\\" \\\\c d\"\n"
    );
    assert_eq!(
        enc(None, Reply::RewriteUrl("http://s3/k".into())),
        "OK rewrite-url=\"http://s3/k\"\n"
    );
    assert_eq!(
        enc(Some("9"), Reply::Redirect(301, "http://h/".into())),
        "9 OK status=301 url=\"http://h/\"\n"
    );
}

#[test]
fn quoting_handles_every_special_byte_in_any_order() {
    let mut v = Vec::new();
    encode(&mut v, None, &Reply::Bh("a\rb\"c\nd\\e\r\"".into()));
    assert_eq!(
        String::from_utf8(v).unwrap(),
        "BH message=\"a b\\\"c d\\\\e \\\"\"\n"
    );
}

#[test]
fn borrowed_store_id_encodes_like_the_reply() {
    for (channel, id) in [
        (None, "http://s3.squid.internal/v1/aws/b/k"),
        (Some("7"), "a\"b"),
    ] {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        encode(&mut a, channel, &Reply::StoreId(id.to_owned()));
        encode_store_id(&mut b, channel, id);
        assert_eq!(a, b);
    }
}
