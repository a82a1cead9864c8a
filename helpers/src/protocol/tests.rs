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
    for channel in [None, Some("7")] {
        let id = "http://s3.squid.internal/v1/aws/b/k%20%C3%A9";
        let (mut a, mut b) = (Vec::new(), b"kept".to_vec());
        encode(&mut a, channel, &Reply::StoreId(id.to_owned()));
        assert!(encode_store_id_with(
            &mut b,
            channel.map(str::as_bytes),
            |out| {
                out.extend_from_slice(id.as_bytes());
                true
            }
        ));
        assert_eq!(b.strip_prefix(b"kept").unwrap(), a);
        // A value writer that gives up leaves the buffer as it was.
        assert!(!encode_store_id_with(
            &mut b,
            channel.map(str::as_bytes),
            |out| {
                out.extend_from_slice(b"partial");
                false
            }
        ));
        assert_eq!(b.strip_prefix(b"kept").unwrap(), a);
    }
}

/// The channel ID and URL start the fast path uses are [`parse_line`]'s, for every line it
/// accepts (but one ending in CR: parse_line drops the CR, which the fast path reads as part
/// of the URL and declines; `raw_fast_path_answers_like_the_parsed_path` shows that).
#[test]
fn split_channel_agrees_with_parse_line() {
    let pieces: [&[u8]; 15] = [
        b"abcdefghijklmnopq",
        b"1",
        b"17",
        b"18446744073709551615",
        b"184467440737095516150",
        b" ",
        b"  ",
        b"http://h/a",
        b"x",
        b"-",
        b"\t",
        b"\r",
        b"\xc3\xa9",
        b"\x00",
        b"\x7f",
    ];
    // Every sequence of up to 4 pieces: 15^4 lines, some across 16-byte blocks.
    let mut line = Vec::new();
    for n in 0..15usize.pow(4) {
        line.clear();
        let mut k = n;
        for _ in 0..4 {
            line.extend_from_slice(pieces[k % 15]);
            k /= 15;
        }
        let (channel, start) = split_channel(&line);
        if let Ok(r) = parse_line(&line) {
            if line.last() != Some(&b'\r') {
                assert_eq!(channel, r.channel.map(str::as_bytes), "{line:?}");
                let url = &line[start..start + r.url.len()];
                assert_eq!(url, r.url.as_bytes(), "{line:?}");
                assert!(
                    matches!(line.get(start + url.len()), None | Some(b' ')),
                    "{line:?}"
                );
            }
        }
    }
}
