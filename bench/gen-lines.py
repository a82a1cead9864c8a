#!/usr/bin/env python3
"""Fixed-seed generator of store_id helper request lines for the replay benchmark.

Each line is what Squid 5.7 sends a store_id_program for a presigned, virtual-hosted S3 GET
(docs/design.md#helper-protocol):

    [channel-ID SP] https://BUCKET.s3.REGION.amazonaws.com/KEY?X-Amz-Algorithm=...&X-Amz-Signature=<64 hex> SP extras

with Squid's default extras `%>a/%>A %un %>rm myip=%la myport=%lp`, e.g.
`10.1.7.23/10.1.7.23 - GET myip=10.0.0.1 myport=3128`.

The buckets are the routes of bench/s3squid-bench.toml (and the rules of
bench/storeid-rules.txt); keep the three in step. Keys are encoded the way AWS SDKs presign
them (every byte outside A-Za-z0-9-._~/ as upper-case %XX: spaces %20, `+` %2B, UTF-8 %XX),
10-200 bytes decoded.

Channel IDs, with --channels, are what Squid 4+ sends with concurrency=N: a per-process
counter starting at 1.

Same --seed and --count, same bytes: the output depends only on `random.Random`
(seed 42, 200000 lines: sha256 7a8ee234d6999155... without channel IDs, 82e1b42ea04d61b2...
with them, on Python 3.11.2 and 3.11.7).
"""

import argparse
import random
import sys
from urllib.parse import quote

# (bucket, region, share of requests). Must match bench/s3squid-bench.toml.
BUCKETS = [
    ("acme-photos-prod", "us-east-1", 40),
    ("acme-user-uploads", "us-east-1", 25),
    ("acme-static-assets", "us-east-1", 20),
    ("acme-media-eu", "eu-west-1", 10),
    ("acme-archive-2019", "us-east-1", 5),
]

ACCESS_KEYS = ["AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE", "AKIAJQ2VG5ZJ7EXAMPLE"]
DATE = "20261126"

WORDS = [
    "holiday", "Holiday", "beach", "Team", "offsite", "report", "Q3", "final", "draft",
    "invoice", "Scan", "scan", "meeting", "notes", "Budget", "plan", "summer", "wedding",
    "Kids", "birthday", "party", "Logo", "banner", "hero", "Product", "shot", "copy",
    "v2", "old", "NEW", "backup", "export", "screenshot", "Screen", "Shot",
]
UNICODE_WORDS = [
    "Résumé", "café", "Smørrebrød", "Ærøskøbing", "Straße", "naïve", "München", "Zürich",
    "São Paulo", "Kraków", "Ελλάδα", "Москва", "東京", "写真", "音楽", "アルバム", "서울",
    "فاتورة", "ñandú", "Ångström", "crème brûlée", "🌅 sunset", "😀",
]
EXTS = ["jpg", "jpeg", "JPG", "png", "webp", "gif", "pdf", "mp4", "mov", "heic", "docx", "zip"]
DEPTS = ["finance", "marketing", "Engineering", "legal", "HR", "sales", "ops"]


def hexstr(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def uuid(rng):
    h = hexstr(rng, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def words(rng, lo, hi, pool=WORDS):
    return " ".join(rng.choice(pool) for _ in range(rng.randint(lo, hi)))


def key_camera(rng):
    y, m = rng.randint(2015, 2026), rng.randint(1, 12)
    if rng.random() < 0.5:
        return f"photos/{y}/{m:02d}/IMG_{rng.randint(1, 9999):04d}.jpg"
    return f"photos/{y}/{m:02d}/{rng.randint(1, 28):02d}/DSC{rng.randint(1, 99999):05d}.JPG"


def key_upload(rng):
    name = words(rng, 1, 4)
    if rng.random() < 0.3:
        name += f" ({rng.randint(1, 9)})"
    return f"uploads/{uuid(rng)}/{name}.{rng.choice(EXTS)}"


def key_unicode(rng):
    name = f"{rng.choice(UNICODE_WORDS)} {words(rng, 0, 2)}".strip()
    return f"users/u{rng.randint(1000, 999999)}/{rng.choice(['docs', 'photos', 'music'])}/{name}.{rng.choice(EXTS)}"


def key_plus(rng):
    a, b = rng.choice(WORDS), rng.choice(WORDS)
    if rng.random() < 0.5:
        return f"src/c++/{a}+{b}-{rng.randint(1, 99)}.tar.gz"
    return f"shared/{a}+{b} {words(rng, 1, 2)}.{rng.choice(EXTS)}"


def key_asset(rng):
    h = hexstr(rng, 40)
    return f"assets/{h[:2]}/{h[2:4]}/{h}.{rng.choice(['webp', 'js', 'css', 'woff2', 'svg'])}"


def key_thumb(rng):
    w = rng.choice([64, 128, 256, 512, 1024])
    return f"thumbs/{w}x{w}/{uuid(rng)}.jpg"


def key_deep(rng):
    parts = ["archive", str(rng.randint(2010, 2026)), rng.choice(DEPTS)]
    for _ in range(rng.randint(2, 7)):
        parts.append(words(rng, 1, 3).replace(" ", rng.choice([" ", "_", "-"])))
    parts.append(f"{words(rng, 2, 5)} {rng.randint(1, 500)}.{rng.choice(EXTS)}")
    return "/".join(parts)


def key_short(rng):
    return f"{rng.choice(['a', 'img', 'f', 'dl'])}/{hexstr(rng, rng.randint(6, 12))}"


# (generator, weight)
KEY_KINDS = [
    (key_camera, 30), (key_upload, 18), (key_unicode, 10), (key_plus, 6),
    (key_asset, 14), (key_thumb, 10), (key_deep, 8), (key_short, 4),
]


def make_key(rng):
    gens, weights = zip(*KEY_KINDS)
    while True:
        key = rng.choices(gens, weights)[0](rng)
        n = len(key.encode())
        if 10 <= n <= 200:
            return key


def presigned_url(rng, bucket, region, key):
    t = rng.randint(0, 86399)
    stamp = f"{DATE}T{t // 3600:02d}{t // 60 % 60:02d}{t % 60:02d}Z"
    cred = f"{rng.choice(ACCESS_KEYS)}%2F{DATE}%2F{region}%2Fs3%2Faws4_request"
    return (
        f"https://{bucket}.s3.{region}.amazonaws.com/{quote(key, safe='/~')}"
        f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={cred}&X-Amz-Date={stamp}"
        f"&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature={rng.getrandbits(256):064x}"
    )


def extras(rng):
    ip = f"10.{rng.randint(0, 3)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    method = "GET" if rng.random() < 0.97 else "HEAD"
    return f"{ip}/{ip} - {method} myip=10.0.0.1 myport=3128"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--channels", action="store_true",
                    help="prefix each line with a channel ID (concurrency=N form)")
    ap.add_argument("--out", help="output file (default stdout)")
    a = ap.parse_args()

    rng = random.Random(a.seed)
    names = [b for b, _, _ in BUCKETS]
    weights = [w for _, _, w in BUCKETS]
    region = {b: r for b, r, _ in BUCKETS}
    out = open(a.out, "w", encoding="ascii", newline="\n") if a.out else sys.stdout
    with out:
        for i in range(1, a.count + 1):
            bucket = rng.choices(names, weights)[0]
            url = presigned_url(rng, bucket, region[bucket], make_key(rng))
            line = f"{url} {extras(rng)}\n"
            out.write(f"{i} {line}" if a.channels else line)


if __name__ == "__main__":
    main()
