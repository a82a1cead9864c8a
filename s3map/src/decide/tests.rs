use super::*;

pub(crate) use crate::fixtures::routes as table;

fn key(url: &str) -> (String, String) {
    let t = table();
    match decide(&t, Some(Method::Get), url) {
        Decision::Object(o) => (o.route.name.clone(), o.key),
        other => panic!("{url}: {other:?}"),
    }
}

fn refused(method: &str, url: &str) -> Refusal {
    let t = table();
    match decide(&t, Method::from_token(method), url) {
        Decision::Refuse(_, why) => why,
        other => panic!("{url}: {other:?}"),
    }
}

#[test]
fn longest_prefix_wins_and_key_is_decoded_once() {
    assert_eq!(
        key("http://images.example.com/photos/a%20b+c.jpg"),
        ("photos".into(), "a b+c.jpg".into())
    );
    assert_eq!(
        key("http://IMAGES.example.com:80/photos/thumbs/x%2541"),
        ("thumbs".into(), "small/x%41".into())
    );
    assert_eq!(
        key("http://images.example.com/photos/thumbsup"),
        ("photos".into(), "thumbsup".into())
    );
    assert_eq!(
        key("https://static.example.com:8443/index.html"),
        ("open".into(), "index.html".into())
    );
    // Empty segments are part of S3 keys: `a//b/` and `//a` are objects of their own.
    assert_eq!(
        key("http://images.example.com/photos/a//b/"),
        ("photos".into(), "a//b/".into())
    );
    assert_eq!(
        key("http://images.example.com/photos///a"),
        ("photos".into(), "//a".into())
    );
    assert_eq!(
        key("http://images.example.com/photos/dots/..hidden/.file."),
        ("photos".into(), "dots/..hidden/.file.".into())
    );
}

#[test]
fn not_ours() {
    let t = table();
    for url in [
        "http://images.example.com/other/x",
        "http://images.example.com:8080/photos/x",
        "https://images.example.com/photos/x",
        "http://static.example.com:8443/x",
        "http://169.254.169.254/latest/meta-data/",
        "images.example.com:443",
        "ftp://images.example.com/photos/x",
        "",
    ] {
        assert_eq!(
            decide(&t, Some(Method::Get), url),
            Decision::NotOurs,
            "{url}"
        );
    }
}

#[test]
fn refusals_and_statuses() {
    let cases = [
        (
            "PUT",
            "http://images.example.com/photos/a",
            Refusal::Method,
            405,
        ),
        (
            "DELETE",
            "http://images.example.com/photos/a",
            Refusal::Method,
            405,
        ),
        (
            "POST",
            "http://images.example.com/photos/",
            Refusal::Method,
            405,
        ),
        (
            "GET",
            "http://images.example.com/photos/a?acl",
            Refusal::Query,
            403,
        ),
        (
            "GET",
            "http://images.example.com/photos/?list-type=2",
            Refusal::Query,
            403,
        ),
        (
            "GET",
            "http://images.example.com/photos/a?response-content-type=text/html",
            Refusal::Query,
            403,
        ),
        (
            "GET",
            "http://images.example.com/photos/",
            Refusal::BucketRoot,
            403,
        ),
        (
            "HEAD",
            "http://images.example.com/photos",
            Refusal::BucketRoot,
            403,
        ),
        (
            "GET",
            "http://images.example.com/photos/thumbs/",
            Refusal::BucketRoot,
            403,
        ),
        // A key of slashes alone is the root too (a listing wherever slashes merge),
        // index document or not.
        (
            "GET",
            "http://images.example.com/photos//",
            Refusal::BucketRoot,
            403,
        ),
        (
            "HEAD",
            "http://images.example.com/photos/thumbs///",
            Refusal::BucketRoot,
            403,
        ),
        ("GET", "http://www.example.com//", Refusal::BucketRoot, 403),
        (
            "GET",
            "http://images.example.com/photos/%2F",
            Refusal::BucketRoot,
            403,
        ),
        (
            "GET",
            "http://images.example.com/photos/a%zz",
            Refusal::BadEscape,
            400,
        ),
        (
            "GET",
            "http://images.example.com/photos/a%2",
            Refusal::BadEscape,
            400,
        ),
        (
            "GET",
            "http://images.example.com/photos/a%00b",
            Refusal::ControlChar,
            400,
        ),
        (
            "GET",
            "http://images.example.com/photos/a%0Ab",
            Refusal::ControlChar,
            400,
        ),
        (
            "GET",
            "http://images.example.com/photos/a%7F",
            Refusal::ControlChar,
            400,
        ),
        (
            "GET",
            "http://images.example.com/photos/a%C2%85",
            Refusal::ControlChar,
            400,
        ),
        (
            "GET",
            "http://images.example.com/photos/a%FF",
            Refusal::NotUtf8,
            400,
        ),
        (
            "GET",
            "http://images.example.com/photos/a/../b",
            Refusal::DotSegment,
            400,
        ),
        (
            "GET",
            "http://images.example.com/photos/a/%2E%2E/b",
            Refusal::DotSegment,
            400,
        ),
        (
            "GET",
            "http://images.example.com/photos/./b",
            Refusal::DotSegment,
            400,
        ),
        (
            "GET",
            "http://images.example.com/photos/..",
            Refusal::DotSegment,
            400,
        ),
    ];
    for (m, url, why, status) in cases {
        assert_eq!(refused(m, url), why, "{m} {url}");
        assert_eq!(why.status(), status);
    }
    let long = format!("http://images.example.com/photos/{}", "k".repeat(1025));
    assert_eq!(refused("GET", &long), Refusal::KeyTooLong);
    let just = format!("http://images.example.com/photos/{}", "k".repeat(1024));
    assert_eq!(key(&just).1.len(), 1024);
    // The key prefix counts toward the limit.
    let pre = format!(
        "http://images.example.com/photos/thumbs/{}",
        "k".repeat(1024 - 6 + 1)
    );
    assert_eq!(refused("GET", &pre), Refusal::KeyTooLong);
}

#[test]
fn allow_listed_params_pass() {
    let t = table();
    match decide(
        &t,
        Some(Method::Get),
        "http://images.example.com/photos/thumbs/a?versionId=3",
    ) {
        Decision::Object(o) => assert_eq!(o.params, vec!["versionId=3"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        refused(
            "GET",
            "http://images.example.com/photos/thumbs/a?versionId=3&x=1"
        ),
        Refusal::Query
    );
    let many = format!(
        "http://images.example.com/photos/thumbs/a?{}",
        vec!["versionId=1"; 65].join("&")
    );
    assert_eq!(refused("GET", &many), Refusal::Query);
    assert!(matches!(
        decide(&t, Some(Method::Get), "http://images.example.com/photos/a?"),
        Decision::Object(_)
    ));
}

#[test]
fn index_documents() {
    assert_eq!(
        key("http://www.example.com/"),
        ("site".into(), "index.html".into())
    );
    assert_eq!(
        key("http://www.example.com/docs/"),
        ("site".into(), "docs/index.html".into())
    );
    assert_eq!(
        key("http://www.example.com/docs/a.css"),
        ("site".into(), "docs/a.css".into())
    );
    // Without an index document a trailing slash is a literal S3 "folder" key.
    assert_eq!(
        key("http://images.example.com/photos/dir/"),
        ("photos".into(), "dir/".into())
    );
}

#[test]
fn redirects() {
    let t = table();
    let red = |url: &str| match decide(&t, Some(Method::Get), url) {
        Decision::Redirect(_, status, loc) => (status, loc),
        other => panic!("{url}: {other:?}"),
    };
    assert_eq!(
        red("http://www.example.com/old.html"),
        (301, "/new.html".into())
    );
    assert_eq!(
        red("http://www.example.com/blog/2024/a%20b.html"),
        (302, "https://blog.example.com/2024/a%20b.html".into())
    );
    assert_eq!(
        red("http://www.example.com/blog/"),
        (302, "https://blog.example.com/".into())
    );
    // Policy still comes first.
    assert_eq!(
        refused("PUT", "http://www.example.com/old.html"),
        Refusal::Method
    );
    assert_eq!(
        refused("GET", "http://www.example.com/old.html?x=1"),
        Refusal::Query
    );
    assert_eq!(
        key("http://www.example.com/old.htm"),
        ("site".into(), "old.htm".into())
    );
}

#[test]
fn every_awkward_key_maps_back() {
    let data =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/awkward-keys.txt");
    let text = std::fs::read_to_string(&data).expect("tests/data/awkward-keys.txt");
    for k in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let url = format!(
            "http://images.example.com/photos/{}",
            crate::pct::encode_path(k)
        );
        assert_eq!(key(&url).1, k);
    }
}

#[test]
fn dot_segments_exactly() {
    for bad in [
        ".", "..", "./a", "../a", "a/.", "a/..", "a/./b", "a/../b", "/./", "a//..",
    ] {
        assert!(has_dot_segment(bad), "{bad}");
    }
    for ok in [
        "a.b", ".a", "..a", "a..", "a/.b/c", "a/b./c", "...", "a/.../b", "", "a/b", "x.jpg",
    ] {
        assert!(!has_dot_segment(ok), "{ok}");
    }
}

#[test]
fn refusal_index_is_its_place_in_all() {
    for (i, r) in Refusal::ALL.iter().enumerate() {
        assert_eq!(r.index(), i, "{r:?}");
    }
}

#[test]
fn only_exact_get_and_head_are_forwarded_methods() {
    assert_eq!(Method::from_token("GET"), Some(Method::Get));
    assert_eq!(Method::from_token("HEAD"), Some(Method::Head));
    for other in ["get", "Head", "PUT", "POST", "GET ", "", "CONNECT"] {
        assert_eq!(Method::from_token(other), None, "{other:?}");
    }
    assert_eq!(
        refused("get", "http://images.example.com/photos/a"),
        Refusal::Method
    );
    let t = table();
    match decide(&t, Some(Method::Head), "http://images.example.com/photos/a") {
        Decision::Object(o) => assert_eq!(o.method, Method::Head),
        other => panic!("{other:?}"),
    }
}

/// Issue 9, point 2: `from = "old/*", to = "/*"` made `/old//evil.example/x.jpg` a
/// `Location: //evil.example/x.jpg` (an open redirect); a tail starting with `/` or `\`
/// (decoded: `%2F`, `%5C`) is refused with 400, whatever `to` is.
#[test]
fn a_redirect_tail_never_leaves_the_site() {
    let cfg = crate::config::Config::parse(
        "[[route]]\nname = 's'\npublic = 'http://www.example.com/'\nbucket = 'site-bucket'\n\
         region = 'us-east-1'\nauth = 'none'\n\
         [[route.redirect]]\nfrom = 'old/*'\nto = '/*'\n\
         [[route.redirect]]\nfrom = 'cdn/*'\nto = 'https://cdn.example.com/*'\n",
    )
    .unwrap();
    let t = RouteTable::new(&cfg.routes);
    for url in [
        "http://www.example.com/old//evil.example/x.jpg",
        "http://www.example.com/old/%2Fevil.example/x.jpg",
        "http://www.example.com/old/%5Cevil.example/x.jpg",
        "http://www.example.com/old/\\evil.example/x.jpg",
        "http://www.example.com/cdn//evil.example/x",
    ] {
        match decide(&t, Some(Method::Get), url) {
            Decision::Refuse(_, why) => {
                assert_eq!((why, why.status()), (Refusal::OffSite, 400), "{url}")
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    match decide(
        &t,
        Some(Method::Get),
        "http://www.example.com/old/a/b%20c.jpg",
    ) {
        Decision::Redirect(_, 301, loc) => assert_eq!(loc, "/a/b%20c.jpg"),
        other => panic!("{other:?}"),
    }
    match decide(
        &t,
        Some(Method::Get),
        "http://www.example.com/cdn/.evil.example/x",
    ) {
        Decision::Redirect(_, 301, loc) => {
            assert_eq!(loc, "https://cdn.example.com/.evil.example/x")
        }
        other => panic!("{other:?}"),
    }
}

/// Issue 9, point 5: `?versionId=A&versionId=B` and the reverse mapped to one store ID but
/// were forwarded in the client's order; a repeated allowed parameter is refused (403), and
/// gets no store ID in any spelling. Control characters in an allowed value (`%0d%0a`) were
/// signed and forwarded; they are refused like those in keys (400).
#[test]
fn one_store_id_one_answer_for_allowed_parameters() {
    let t = table();
    let base = "http://images.example.com/photos/thumbs/a";
    for q in [
        "versionId=A&versionId=B",
        "versionId=B&versionId=A",
        "versionId=A&version%49d=B",
    ] {
        assert_eq!(
            refused("GET", &format!("{base}?{q}")),
            Refusal::Query,
            "{q}"
        );
        let s3 = format!("https://thumbs.s3.eu-west-1.amazonaws.com/small/a?{q}");
        assert_eq!(crate::storeid::for_url(&t, &s3), None, "{s3}");
    }
    for q in [
        "versionId=a%0d%0ab",
        "versionId=%7F",
        "versionId=%C2%85",
        "versionId=%0A",
    ] {
        assert_eq!(
            refused("GET", &format!("{base}?{q}")),
            Refusal::ControlChar,
            "{q}"
        );
    }
    assert_eq!(
        refused("GET", &format!("{base}?versionId=%zz")),
        Refusal::BadEscape
    );
    match decide(&t, Some(Method::Get), &format!("{base}?versionId=3%2B1")) {
        Decision::Object(o) => assert_eq!(o.params, vec!["versionId=3%2B1"]),
        other => panic!("{other:?}"),
    }
}
