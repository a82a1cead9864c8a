use super::*;
use crate::protocol::Reply;

/// A reader that hands out its bytes in fixed-size pieces.
struct Pieces<'a>(&'a [u8], usize);

impl Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.1.min(self.0.len()).min(out.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fn echo(req: &Request<'_>) -> Reply {
    if req.url.starts_with("http://ok/") {
        Reply::StoreId(format!("id:{}", req.url))
    } else {
        Reply::Err
    }
}

fn run_str(input: &[u8], piece: usize) -> (String, Stop) {
    let mut out = Vec::new();
    let stop = run(Pieces(input, piece), &mut out, echo);
    (String::from_utf8(out).unwrap(), stop)
}

#[test]
fn every_line_gets_one_reply_whatever_the_read_sizes() {
    let mut input =
        b"1 http://ok/a x y\n2 http://no/\r\nhttp://ok/b\n\n3 http://ok/\xff\n4 http://ok/\x00\n"
            .to_vec();
    let long = vec![b'a'; MAX_HELPER_LINE * 3];
    input.extend_from_slice(b"5 http://ok/");
    input.extend_from_slice(&long);
    input.extend_from_slice(b"\n6 http://ok/c");
    let want = "1 OK store-id=\"id:http://ok/a\"\n2 ERR\nOK store-id=\"id:http://ok/b\"\nERR message=\"empty request line\"\n3 ERR message=\"request line is not UTF-8\"\n4 ERR message=\"request line has a control character\"\n5 ERR message=\"request line too long\"\n6 OK store-id=\"id:http://ok/c\"\n";
    for piece in [1, 2, 3, 7, 100, 4096, 1 << 20] {
        assert_eq!(
            run_str(&input, piece),
            (want.to_owned(), Stop::Eof),
            "piece {piece}"
        );
    }
}

#[test]
fn eof_at_once_exits_cleanly() {
    assert_eq!(run_str(b"", 10), (String::new(), Stop::Eof));
}

#[test]
fn write_error_ends_quietly() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    assert_eq!(run(&b"http://ok/a\n"[..], Broken, echo), Stop::WriteError);
}

/// Found by the fuzz target `helper_storeid`: a line of exactly `MAX_HELPER_LINE` bytes
/// and its CR (which `parse_line` removes) was answered when its `\n` came in the same
/// read, but refused as too long when the read ended before it.
#[test]
fn a_line_at_the_limit_with_a_cr_is_answered_however_it_is_read() {
    let mut line = b"5 http://ok/".to_vec();
    line.resize(MAX_HELPER_LINE, b'a');
    let url = String::from_utf8(line[2..].to_vec()).unwrap();
    let mut input = line.clone();
    input.extend_from_slice(b"\r\n6 http://ok/b\n");
    let want = format!("5 OK store-id=\"id:{url}\"\n6 OK store-id=\"id:http://ok/b\"\n");
    for piece in [1, 4096, MAX_HELPER_LINE + 1, 1 << 20] {
        assert_eq!(
            run_str(&input, piece),
            (want.clone(), Stop::Eof),
            "piece {piece}"
        );
    }
    // One byte more is too long, however it is read.
    line.push(b'a');
    line.extend_from_slice(b"\r\n");
    for piece in [1, 4096, MAX_HELPER_LINE + 1, 1 << 20] {
        assert_eq!(
            run_str(&line, piece),
            (
                "5 ERR message=\"request line too long\"\n".to_owned(),
                Stop::Eof
            ),
            "piece {piece}"
        );
    }
}
