#!/usr/bin/env python3
"""Generate SigV4 presigned-URL reference vectors from botocore.

Writes s3map/tests/fixtures/presign-vectors.jsonl: the first line is a provenance
object ({"generator", "botocore", "command", ...}); every other line is one vector:

  key, method ("GET"|"HEAD"), bucket, region, endpoint (str|null),
  addressing ("path"|"virtual"), access_key, secret_key, session_token (str|null),
  time (unix seconds), expires (seconds), url (exactly as botocore returned it)

Deterministic: fixed credentials (AWS's documented example keys), botocore's clock
frozen at 2026-01-02T03:04:05Z, no shared config/credentials files, no network.

Usage:
  python3 scripts/gen-presign-vectors.py [--data-dir DIR] [--out FILE]

DIR defaults to <repo>/tests/data and must hold awkward-keys.txt and
signing-keys.txt (UTF-8, one key per line, '#' lines are comments, empty lines skipped).
"""

import argparse
import calendar
import datetime
import hashlib
import hmac
import json
import os
import sys
from urllib.parse import parse_qsl, quote, unquote, urlsplit

# --- Isolate botocore from the environment before importing it. -------------------
for _name in list(os.environ):
    if _name.upper().startswith(("AWS_", "BOTO_")) or _name.lower() in (
        "http_proxy", "https_proxy", "all_proxy", "no_proxy",
    ):
        del os.environ[_name]
os.environ["AWS_CONFIG_FILE"] = "/dev/null"
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import botocore  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(REPO, "tests", "data")
DEFAULT_OUT = os.path.join(REPO, "s3map", "tests", "fixtures", "presign-vectors.jsonl")
CORPORA = ("awkward-keys.txt", "signing-keys.txt")

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FQoGZXIvYXdzEXAMPLE+/token="

FIXED = datetime.datetime(2026, 1, 2, 3, 4, 5)  # naive UTC
FIXED_AMZ_DATE = "20260102T030405Z"
FIXED_UNIX = calendar.timegm(FIXED.timetuple())
assert FIXED_UNIX == 1767323045, FIXED_UNIX

# (bucket, region, endpoint, addressing, extra s3 config, expected scheme://host, path prefix)
CASES = [
    ("photos", "us-east-1", "http://127.0.0.1:9000", "path", {},
     "http://127.0.0.1:9000", "/photos/"),
    ("photos", "eu-west-1", None, "virtual", {},
     "https://photos.s3.eu-west-1.amazonaws.com", "/"),
    ("photos", "us-east-1", None, "virtual", {"us_east_1_regional_endpoint": "regional"},
     "https://photos.s3.us-east-1.amazonaws.com", "/"),
    ("media-archive", "us-west-2", None, "path", {},
     "https://s3.us-west-2.amazonaws.com", "/media-archive/"),
]
METHODS = [("GET", "get_object"), ("HEAD", "head_object")]
TOKENS = [None, SESSION_TOKEN]
DEFAULT_EXPIRES = 300
# Extra expiry vectors (all cases, both methods, both credential kinds) for these keys.
EXTRA_EXPIRES = (604800, 1)
EXTRA_EXPIRES_KEYS = ("plain/hello.txt", "plus+sign/c++ notes.txt")


# --- Freeze botocore's clock. ------------------------------------------------------
# botocore >= 1.31-ish: auth.py does `from botocore.compat import get_current_datetime`
# and calls get_current_datetime(); older versions call datetime.datetime.utcnow() via
# the `datetime` module imported in auth.py. Patch whichever this version uses.
def _fixed_now(remove_tzinfo=True):
    return FIXED if remove_tzinfo else FIXED.replace(tzinfo=datetime.timezone.utc)


if hasattr(botocore.auth, "get_current_datetime"):
    botocore.auth.get_current_datetime = _fixed_now
else:  # pragma: no cover - old botocore
    class _FrozenDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return FIXED

        @classmethod
        def now(cls, tz=None):
            return FIXED.replace(tzinfo=tz) if tz else FIXED

    class _DatetimeModule:
        def __getattr__(self, name):
            return getattr(datetime, name)

    _mod = _DatetimeModule()
    _mod.datetime = _FrozenDatetime
    botocore.auth.datetime = _mod


def read_keys(data_dir):
    keys = []
    for name in CORPORA:
        with open(os.path.join(data_dir, name), "rb") as f:
            raw = f.read().decode("utf-8")  # strict: bad UTF-8 fails loudly
        for line in raw.split("\n"):
            if line.endswith("\r"):
                line = line[:-1]
            if not line or line.startswith("#"):
                continue
            keys.append(line)  # no stripping: spaces are part of keys
    dups = {k for k in keys if keys.count(k) > 1}
    if dups:
        sys.exit(f"duplicate keys in corpora: {sorted(dups)!r}")
    return keys


# --- Independent SigV4 check (S3 flavour: no double-encoding, no normalisation). ----
def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def independent_signature(method, host, raw_path, query_pairs, secret, region):
    """Recompute the signature from the URL's own path and query (all but Signature)."""
    def enc(s):
        return quote(s, safe="-_.~")
    canon_q = "&".join(
        f"{enc(k)}={enc(v)}" for k, v in sorted(query_pairs) if k != "X-Amz-Signature"
    )
    canonical_request = "\n".join([
        method, raw_path, canon_q, f"host:{host}\n", "host", "UNSIGNED-PAYLOAD",
    ])
    scope = f"{FIXED_AMZ_DATE[:8]}/{region}/s3/aws4_request"
    sts = "\n".join([
        "AWS4-HMAC-SHA256", FIXED_AMZ_DATE, scope,
        hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
    ])
    k = _hmac(("AWS4" + secret).encode("utf-8"), FIXED_AMZ_DATE[:8])
    k = _hmac(k, region)
    k = _hmac(k, "s3")
    k = _hmac(k, "aws4_request")
    return hmac.new(k, sts.encode("utf-8"), hashlib.sha256).hexdigest()


def make_client(session, case, token):
    bucket, region, endpoint, addressing, extra_s3, _, _ = case
    s3cfg = {"addressing_style": addressing}
    s3cfg.update(extra_s3)
    return session.create_client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=token,
        config=Config(signature_version="s3v4", s3=s3cfg, proxies={}),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=DEFAULT_DATA)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()

    keys = read_keys(args.data_dir)
    session = botocore.session.get_session()

    vectors, failures, anomalies = [], [], []
    param_orders = set()
    for case in CASES:
        bucket, region, endpoint, addressing, _, origin, prefix = case
        for token in TOKENS:
            client = make_client(session, case, token)
            for key in keys:
                expiries = [DEFAULT_EXPIRES]
                if key in EXTRA_EXPIRES_KEYS:
                    expiries += list(EXTRA_EXPIRES)
                for method, op in METHODS:
                    for expires in expiries:
                        try:
                            url = client.generate_presigned_url(
                                op, Params={"Bucket": bucket, "Key": key},
                                ExpiresIn=expires, HttpMethod=method,
                            )
                        except Exception as e:  # report, never drop silently
                            failures.append((key, method, case[:4], repr(e)))
                            continue
                        u = urlsplit(url)
                        q = parse_qsl(u.query, keep_blank_values=True, strict_parsing=True)
                        qd = dict(q)
                        assert len(qd) == len(q), url
                        # Loud failures for a wrong clock patch or wrong endpoint resolution.
                        assert qd["X-Amz-Date"] == FIXED_AMZ_DATE, url
                        assert f"{u.scheme}://{u.netloc}" == origin, (origin, url)
                        assert qd["X-Amz-Expires"] == str(expires), url
                        assert qd["X-Amz-Credential"] == (
                            f"{ACCESS_KEY}/{FIXED_AMZ_DATE[:8]}/{region}/s3/aws4_request"), url
                        assert qd["X-Amz-SignedHeaders"] == "host", url
                        assert qd.get("X-Amz-Security-Token") == token, url
                        param_orders.add(tuple(k for k, _ in q))
                        # Path fidelity: must be the key, RFC 3986-encoded with '/' kept.
                        want_path = prefix + quote(key.encode("utf-8"), safe="/~")
                        if u.path != want_path:
                            anomalies.append(
                                f"{method} {case[:4]} key={key!r}: path {u.path!r} "
                                f"!= expected {want_path!r} (decodes to {unquote(u.path)!r})")
                        sig = independent_signature(
                            method, u.netloc, u.path, q, SECRET_KEY, region)
                        if sig != qd["X-Amz-Signature"]:
                            anomalies.append(
                                f"{method} {case[:4]} key={key!r}: independent SigV4 "
                                f"(canonical URI = URL path as sent) disagrees")
                        vectors.append({
                            "key": key, "method": method, "bucket": bucket,
                            "region": region, "endpoint": endpoint,
                            "addressing": addressing, "access_key": ACCESS_KEY,
                            "secret_key": SECRET_KEY, "session_token": token,
                            "time": FIXED_UNIX, "expires": expires, "url": url,
                        })

    header = {
        "generator": "scripts/gen-presign-vectors.py (botocore generate_presigned_url, "
                     "s3v4, clock frozen at 2026-01-02T03:04:05Z)",
        "botocore": botocore.__version__,
        "command": "python3 scripts/gen-presign-vectors.py",
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(header, ensure_ascii=False) + "\n")
        for v in vectors:
            f.write(json.dumps(v, ensure_ascii=False) + "\n")

    print(f"botocore {botocore.__version__}: {len(keys)} keys, "
          f"{len(vectors)} vectors -> {args.out}")
    for order in sorted(param_orders):
        print("query parameter order:", "&".join(order))
    for fl in failures:
        print("PRESIGN FAILED:", fl)
    for a in anomalies:
        print("ANOMALY:", a)
    if not failures and not anomalies:
        print("all keys presigned; every URL path is the RFC 3986-encoded key "
              "(no normalisation) and every signature matches an independent SigV4 check")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
