//! The Squid facts of docs/design.md that no other test shows, each shown through real
//! Squid 5.7 and s3s-fs: the callout order and REQMOD on hits (fact 1), `Authorization` and
//! caching (fact 2), s3s-fs answering a conditional GET in full (fact 8), and what the answer
//! to a revalidation does to the cached copy (fact 9).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use s3squid::squid_conf::Layout;
use s3squid_e2e::hang::Hang;
use s3squid_e2e::http;
use s3squid_e2e::squid::{Stack, StackOptions, PUBLIC_HOST};
use s3squid_e2e::{wait_until, Proc, Sandbox, ACCESS_KEY};

use crate::{body_of, public_path};

/// One line of the log that shows what the callouts left on a transaction.
#[derive(Debug)]
struct Noted {
    /// `TCP_MISS`, `TCP_MEM_HIT`, …
    action: String,
    /// The status sent to the client.
    status: u16,
    /// The store-ID helper's `store-id=` (Squid keeps every key=value of a helper reply as a
    /// transaction note), `-` when it answered none.
    store_id: String,
    /// The url_rewrite helper's `rewrite-url=`, likewise.
    rewrite_url: String,
    /// The URL after adaptation and rewriting (`%ru`), without its query (Squid's
    /// `strip_query_terms` leaves a bare `?` where one was).
    url: String,
}

/// Status and body (as text, for readable failures) of an answer.
fn shown(r: &http::Response) -> (u16, String) {
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

/// What [`shown`] gives for `k`'s own bytes.
fn object(k: &str) -> (u16, String) {
    (200, String::from_utf8(body_of(k)).unwrap())
}

/// The access log of [`Noted`] lines, in `dir`, for [`restart_front`]. Squid 5.7 has no
/// logformat code for the store ID; it keeps a helper's reply pairs as notes
/// (`UpdateRequestNotes` in `src/client_side_request.cc`), so `%{store-id}note` logs it.
fn notes_log(dir: &Path) -> (PathBuf, String) {
    let log = dir.join("notes.log");
    let conf = format!(
        "logformat s3squid_notes %Ss %>Hs %{{store-id}}note %{{rewrite-url}}note %ru\n\
         access_log stdio:{} s3squid_notes\n",
        log.display()
    );
    (log, conf)
}

/// Waits for `n` lines in the [`notes_log`] and returns them.
fn noted(log: &Path, n: usize) -> Vec<Noted> {
    let read = || -> Vec<Noted> {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        text.lines()
            .filter(|l| !l.contains("error:transaction-end-before-headers"))
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                Some(Noted {
                    action: f.first()?.to_string(),
                    status: f.get(1)?.parse().ok()?,
                    store_id: f.get(2)?.to_string(),
                    rewrite_url: f.get(3)?.to_string(),
                    url: f.get(4)?.split('?').next()?.to_owned(),
                })
            })
            .collect()
    };
    wait_until(10, &format!("{n} lines in {}", log.display()), || {
        read().len() >= n
    });
    read()
}

/// REQMOD runs before the store-ID helper, and on hits too. The store-ID helper is given its
/// own routes: `photos` under another public host, so it has an ID for the S3 URL that
/// s3squid-icap makes and none for the public URL. An object fetched twice is a miss then a
/// hit, stored under the S3 object's ID, and the signer signed both requests. With the signer
/// stopped, the public URL reaches the helper and gets no ID: so the ID came from the S3 URL.
#[test]
fn fact_1_reqmod_runs_before_store_id_and_on_hits() {
    let sb = Sandbox::new("fact-1-storeid");
    let helper_conf = sb.path("storeid.toml");
    let opts = StackOptions {
        storeid_config: Some(helper_conf.clone()),
        ..StackOptions::default()
    };
    let mut st = Stack::start(&sb, Layout::Single, opts);
    let public = format!("public = \"http://{PUBLIC_HOST}/photos/\"");
    let config = std::fs::read_to_string(&st.config).unwrap();
    assert!(config.contains(&public), "{config}");
    let elsewhere = "public = \"http://helper-only.example.com/photos/\"";
    std::fs::write(&helper_conf, config.replace(&public, elsewhere)).unwrap();
    let (log, conf) = notes_log(&sb.dir);
    crate::restart_front(&sb, &mut st, |t| t + &conf); // the helpers start again with helper_conf
    let k = "order/with space.jpg";
    st.s3.put("photos", k, &body_of(k));
    let signed = "s3squid_icap_requests_total{outcome=\"signed\"}";
    let before = st.icap.metric(signed);
    for round in 0..2 {
        assert_eq!(shown(&st.get(&public_path(k))), object(k), "round {round}");
    }
    assert_eq!(
        st.icap.metric(signed) - before,
        2.0,
        "s3squid-icap signed the hit as well"
    );
    assert_eq!(st.s3.count("GetObject", k), 1, "miss then hit");
    let enc = s3map::pct::encode_path(k);
    let s3_url = format!("http://127.0.0.1:{}/photos/{enc}", st.s3.port);
    let id = format!(
        "http://s3.squid.internal/v1/127.0.0.1:{}/photos/{enc}",
        st.s3.port
    );
    let lines = noted(&log, 2);
    assert_eq!(lines[0].action, "TCP_MISS", "{lines:#?}");
    assert!(lines[1].action.contains("HIT"), "{lines:#?}");
    for l in &lines {
        assert_eq!((l.status, &l.store_id, &l.url), (200, &id, &s3_url));
    }
    // The public URL, as the helper sees it when nothing signs: no ID, so nothing cached
    // under it, and no peer for the public host (502).
    st.icap.stop();
    assert_eq!(st.get(&public_path(k)).status, 502);
    let last = noted(&log, 3).pop().unwrap();
    let public_url = format!("http://{PUBLIC_HOST}{}", public_path(k));
    assert_eq!(
        (last.status, &*last.store_id, &last.url),
        (502, "-", &public_url)
    );
}

/// REQMOD runs before url_rewrite. The single layout with an `auth = "none"` route runs
/// s3squid-rewrite too, asked only about public URLs (`url_rewrite_access`). While
/// s3squid-icap is up, it maps that route's requests, and they carry no `rewrite-url` note:
/// the helper never rewrote them. With s3squid-icap stopped, the helper gets the public URL
/// and rewrites it (so a rewriter running first would have left the note).
#[test]
fn fact_1_reqmod_runs_before_url_rewrite() {
    let sb = Sandbox::new("fact-1-rewrite");
    let opts = StackOptions {
        extra_routes: crate::PUBLIC_ROUTE.to_owned(),
        anonymous_s3: true,
        ..StackOptions::default()
    };
    let mut st = Stack::start(&sb, Layout::Single, opts);
    let (log, conf) = notes_log(&sb.dir);
    crate::restart_front(&sb, &mut st, |t| {
        assert!(t.contains("\nurl_rewrite_program "), "{t}");
        t + &conf
    });
    let anon = st.anon.as_ref().unwrap();
    anon.bucket("open");
    let (k, k2) = ("order/by icap.txt", "order/by rewrite.txt");
    for k in [k, k2] {
        anon.put("open", k, &body_of(k));
    }
    let s3_url = |k: &str| {
        format!(
            "http://127.0.0.1:{}/open/{}",
            anon.port,
            s3map::pct::encode_path(k)
        )
    };
    let path = |k: &str| format!("/public/{}", s3map::pct::encode_path(k));
    let unsigned = "s3squid_icap_requests_total{outcome=\"unsigned_route\"}";
    let before = st.icap.metric(unsigned);
    for _ in 0..2 {
        assert_eq!(shown(&st.get(&path(k))), object(k));
    }
    assert_eq!(
        st.icap.metric(unsigned) - before,
        2.0,
        "s3squid-icap mapped both"
    );
    for l in noted(&log, 2) {
        assert_eq!(
            (l.status, &*l.rewrite_url, l.url.clone()),
            (200, "-", s3_url(k))
        );
    }
    st.icap.stop();
    assert_eq!(shown(&st.get(&path(k2))), object(k2));
    let l = noted(&log, 3).pop().unwrap();
    assert_eq!(
        (l.rewrite_url.clone(), l.url.clone()),
        (s3_url(k2), s3_url(k2))
    );
}

/// An `Authorization` header keeps Squid from caching. The sample edge refuses such requests
/// (`http_access deny s3squid_client_auth`): neither the signing Squid nor S3 sees them. So
/// the fact is shown by the same edge without that one rule: asked for with `Authorization`,
/// an object (S3 sends no `Cache-Control`) is a miss every time and fetched from S3 every time;
/// without the header it is a miss, then a hit.
#[test]
fn fact_2_authorization_keeps_squid_from_caching() {
    let sb = Sandbox::new("fact-2-auth");
    let mut st = Stack::start(&sb, Layout::TwoTier, StackOptions::default());
    let k = "auth/cat.jpg";
    st.s3.put("photos", k, &body_of(k));
    let with_auth = |st: &Stack| {
        http::raw(
            st.front.port,
            &format!("GET {} HTTP/1.1", public_path(k)),
            &[("Host", PUBLIC_HOST), ("Authorization", "x")],
        )
    };
    assert_eq!(with_auth(&st).status, 403, "the sample edge refuses it");
    assert_eq!(st.front.access_n(1)[0].action, "TCP_DENIED");
    assert!(st.signer.as_ref().unwrap().access().is_empty());
    assert_eq!(st.s3.requests(), 0);

    let rule = "http_access deny s3squid_client_auth\n";
    crate::restart_front(&sb, &mut st, |t| {
        assert!(t.contains(rule), "{t}");
        t.replace(rule, "")
    });
    for round in 0..2 {
        assert_eq!(shown(&with_auth(&st)), object(k), "round {round}");
    }
    for round in 0..2 {
        assert_eq!(shown(&st.get(&public_path(k))), object(k), "round {round}");
    }
    let log = st.front.access_n(5);
    let actions: Vec<&str> = log[1..].iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions[..3], ["TCP_MISS"; 3], "{log:#?}");
    assert!(log[4].hit(), "{log:#?}");
    assert_eq!(st.s3.count("GetObject", k), 3, "S3 served every miss");
}

/// The design's side of fact 2 in the single layout, which has no rule against
/// `Authorization`: s3squid-icap drops the client's header from the request it adapts (S3
/// never sees it), and Squid caches the answer: a miss, then hits with and without the
/// header; S3 asked once.
#[test]
fn fact_2_single_layout_caches_once_the_signer_drops_authorization() {
    let sb = Sandbox::new("fact-2-single");
    let st = Stack::start(&sb, Layout::Single, StackOptions::default());
    let k = "auth/dog.jpg";
    st.s3.put("photos", k, &body_of(k));
    for auth in [true, true, false] {
        let mut headers = vec![("Host", PUBLIC_HOST)];
        headers.extend(auth.then_some(("Authorization", "x")));
        let line = format!("GET {} HTTP/1.1", public_path(k));
        let r = http::raw(st.front.port, &line, &headers);
        assert_eq!(shown(&r), object(k), "auth: {auth}");
    }
    let log = st.front.access_n(3);
    let hits: Vec<bool> = log.iter().map(|a| a.hit()).collect();
    assert_eq!(hits, [false, true, true], "{log:#?}");
    assert_eq!(st.s3.count("GetObject", k), 1);
    let s3_log = std::fs::read_to_string(&st.s3.log).unwrap();
    assert!(
        s3_log.contains("req: Request") && !s3_log.contains("\"authorization\""),
        "S3 got the header:\n{s3_log}"
    );
}

/// s3s-fs answers a conditional GET (`If-Modified-Since`, `If-None-Match`, each matching
/// the object) with a full 200, where real S3 answers 304. The presigned URL is the one Squid
/// sent for a miss (from s3s-fs's log), sent again with each condition. So through Squid, a
/// stale copy of an unchanged object is fetched again in full: `TCP_REFRESH_MODIFIED`, where
/// real S3's 304 would give `TCP_REFRESH_UNMODIFIED`.
#[test]
fn fact_8_s3s_fs_answers_a_conditional_get_in_full() {
    let sb = Sandbox::new("fact-8-conditional");
    let st = Stack::start(&sb, Layout::Single, StackOptions::default());
    let k = "conditional/cat.jpg";
    st.s3
        .put_recent("photos", k, &body_of(k), Duration::from_secs(2));
    assert_eq!(shown(&st.get(&public_path(k))), object(k));
    // s3s-fs logs `req: Request { method: GET, uri: /photos/…?X-Amz-…, version: …, headers: …`.
    let requests = || -> Vec<String> {
        let log = std::fs::read_to_string(&st.s3.log).unwrap();
        let reqs = log
            .lines()
            .filter_map(|l| l.split_once("req: Request { method: GET, "));
        reqs.map(|(_, r)| r.to_owned()).collect()
    };
    let presigned = requests()[0]
        .strip_prefix("uri: ")
        .and_then(|r| r.split_once(", version:"))
        .unwrap()
        .0
        .to_owned();
    let host = format!("127.0.0.1:{}", st.s3.port);
    let get = |extra: Option<(&str, &str)>| {
        let mut headers = vec![("Host", host.as_str())];
        headers.extend(extra);
        http::raw(st.s3.port, &format!("GET {presigned} HTTP/1.1"), &headers)
    };
    let first = get(None);
    assert_eq!(shown(&first), object(k));
    let lm = first.header("last-modified").unwrap().to_owned();
    let etag = first.header("etag").unwrap().to_owned();
    for cond in [("If-Modified-Since", lm.as_str()), ("If-None-Match", &etag)] {
        assert_eq!(shown(&get(Some(cond))), object(k), "{cond:?}");
    }
    std::thread::sleep(Duration::from_millis(1500)); // stale now
    assert_eq!(shown(&st.get(&public_path(k))), object(k));
    let log = st.front.access_n(2);
    assert_eq!(log[1].action, "TCP_REFRESH_MODIFIED", "{log:#?}");
    let refresh = requests().pop().unwrap();
    for h in ["\"if-modified-since\"", "\"if-none-match\""] {
        assert!(refresh.contains(h), "Squid's refresh had no {h}: {refresh}");
    }
    assert_eq!(st.s3.count("GetObject", k), 5);
}

/// A refresh answered below 500 replaces the cached copy; a 5xx serves it stale. Four
/// objects, cached, then stale, then asked for again: one changed in S3 (its new bytes are
/// served), one deleted (S3's 404 is served; the stale copy stays, so the next request is
/// a refresh again and gets the 404 again), one while S3 no longer accepts the signer's key
/// (S3's 403 is served; once S3 takes the key again, the next request refreshes the copy),
/// and one while S3 answers 503 (the stale copy is served, and is still there to refresh
/// afterwards). (Before the samples set `collapsed_forwarding on`, a 404 or 403 refresh
/// released the copy: the next request was a miss.)
#[test]
fn fact_9_an_answer_below_500_replaces_the_copy_a_5xx_serves_it_stale() {
    let sb = Sandbox::new("fact-9-refresh");
    let mut st = Stack::start(&sb, Layout::Single, StackOptions::default());
    let [changed, gone, refused, failed] =
        ["changed.jpg", "gone.jpg", "refused.jpg", "failed.jpg"].map(|k| format!("refresh/{k}"));
    for k in [&changed, &gone, &refused, &failed] {
        st.s3
            .put_recent("photos", k, &body_of(k), Duration::from_secs(2));
        assert_eq!(shown(&st.get(&public_path(k))), object(k));
    }
    std::thread::sleep(Duration::from_millis(1500)); // stale now (docs/design.md#fact-8)
    let mut seen = 4;
    // GETs `k`: its status and access.log action are `want`'s, its body contains `want`'s.
    let mut check = |st: &Stack, k: &str, want: (u16, &str, &str)| {
        let r = st.get(&public_path(k));
        seen += 1;
        let a = st.front.access_n(seen).pop().unwrap();
        let body = String::from_utf8_lossy(&r.body);
        assert_eq!(
            (r.status, a.action.as_str()),
            (want.0, want.2),
            "{k}: {body}"
        );
        assert!(body.contains(want.1), "{k}: {body}");
    };

    st.s3.put("photos", &changed, b"new bytes");
    check(&st, &changed, (200, "new bytes", "TCP_REFRESH_MODIFIED"));

    std::fs::remove_file(st.s3.root.join("photos").join(&gone)).unwrap();
    let no_such_key = "<Code>NoSuchKey</Code>";
    check(&st, &gone, (404, no_such_key, "TCP_REFRESH_MODIFIED"));
    // With collapsed_forwarding on (the samples), the refresh's 404 goes to the client but
    // the stale copy stays: the next request is a refresh again, and gets S3's 404 again.
    check(&st, &gone, (404, no_such_key, "TCP_REFRESH_MODIFIED"));
    assert_eq!(st.s3.count("GetObject", &gone), 3, "the 404 was not kept");

    // S3 on the same port and data, with another secret for the signer's access key.
    st.s3.stop();
    let mut cmd = Command::new("s3s-fs");
    cmd.args(["--host", "127.0.0.1", "--port", &st.s3.port.to_string()])
        .args([
            "--access-key",
            ACCESS_KEY,
            "--secret-key",
            "another-secret-key",
        ])
        .arg(&st.s3.root);
    let mut rotated = Proc::spawn("s3s-fs (another key)", cmd, &sb.path("s3-rotated.log"));
    s3squid_e2e::wait_port(st.s3.port, "s3s-fs with another key");
    let bad_signature = "<Code>SignatureDoesNotMatch</Code>";
    check(&st, &refused, (403, bad_signature, "TCP_REFRESH_MODIFIED"));
    rotated.stop(Duration::from_secs(5));

    let slow_down = Hang::slow_down(st.s3.port);
    check(
        &st,
        &failed,
        (200, &object(&failed).1, "TCP_REFRESH_FAIL_OLD"),
    );
    drop(slow_down);

    st.s3.restart();
    check(
        &st,
        &refused,
        (200, &object(&refused).1, "TCP_REFRESH_MODIFIED"),
    );
    check(
        &st,
        &failed,
        (200, &object(&failed).1, "TCP_REFRESH_MODIFIED"),
    );
}
