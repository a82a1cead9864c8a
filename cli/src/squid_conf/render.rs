//! Filling the templates in `cli/templates/` with [`SquidConfParams`].

use s3map::decide::REFUSED_HOST;

use super::{blocks, template, version, FleetParent, Layout, SquidConfParams, SquidInstance};

const EDGE_HEAD: &str = include_str!("../../templates/edge-head.conf.in");
const EDGE_UPSTREAM: &str = include_str!("../../templates/edge-upstream.conf.in");
const SIGNER_TEMPLATE: &str = include_str!("../../templates/signer.conf.in");
const SINGLE_TEMPLATE: &str = include_str!("../../templates/single.conf.in");
const REWRITE_TEMPLATE: &str = include_str!("../../templates/rewrite.conf.in");
const INSTANCE_TEMPLATE: &str = include_str!("../../templates/instance.conf.in");
const STORE_POLICY_TEMPLATE: &str = include_str!("../../templates/store-policy.conf.in");
const HYGIENE_TEMPLATE: &str = include_str!("../../templates/hygiene.conf.in");
const SERVE_STALE_TEMPLATE: &str = include_str!("../../templates/serve-stale.conf.in");
const RANGES_TEMPLATE: &str = include_str!("../../templates/ranges.conf.in");
const NO_BODY_TEMPLATE: &str = include_str!("../../templates/no-body.conf.in");
const PEERS_TEMPLATE: &str = include_str!("../../templates/s3-peers.conf.in");
const STORE_ID_TEMPLATE: &str = include_str!("../../templates/store-id.conf.in");
const URL_REWRITE_TEMPLATE: &str = include_str!("../../templates/url-rewrite.conf.in");
const ICAP_TEMPLATE: &str = include_str!("../../templates/icap.conf.in");
const FRESHNESS_TEMPLATE: &str = include_str!("../../templates/freshness.conf.in");
const S3_TIMEOUTS_TEMPLATE: &str = include_str!("../../templates/s3-timeouts.conf.in");
const ICAP_PERSISTENT_TEMPLATE: &str = include_str!("../../templates/icap-persistent.conf.in");
const FRAGMENT_HEAD_TEMPLATE: &str = include_str!("../../templates/fragment-head.conf.in");
const FRAGMENT_TAIL_TEMPLATE: &str = include_str!("../../templates/fragment-tail.conf.in");
const FRAGMENT_SINGLE_TEMPLATE: &str = include_str!("../../templates/fragment-single.conf.in");
const FRAGMENT_EDGE_TEMPLATE: &str = include_str!("../../templates/fragment-edge.conf.in");

/// A whole squid.conf, or a fragment added to a Squid that serves other traffic too
/// (`--fragment`): every rule of a fragment is scoped to requests on its own ports
/// (`s3squid_in`), and it sets nothing Squid has only per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Whole,
    Fragment,
}

impl Mode {
    /// What starts every rule's ACL list: nothing, or `s3squid_in `.
    fn scope(self) -> &'static str {
        match self {
            Mode::Whole => "",
            Mode::Fragment => "s3squid_in ",
        }
    }
}

/// In a fragment, where the per-process settings a whole sample sets in a section are.
const SEE_TAIL: &str = "see the end of this file.";

/// The freshness section of a Squid whose cache keys are `keys`.
fn freshness_block(p: &SquidConfParams, keys: blocks::CacheKeys, through: &str) -> String {
    let note = match keys {
        blocks::CacheKeys::Public => {
            "Each line is anchored on a route's public prefix\n\
             # (this Squid's cache keys are the public URLs), so it touches no other URL."
        }
        blocks::CacheKeys::StoreId => {
            "refresh_pattern matches the store ID when there is\n\
             # one, so each line is anchored on the store IDs of a route's objects and touches no\n\
             # other URL; they come before the `\\?` rule below."
        }
    };
    fill(
        "freshness.conf.in",
        FRESHNESS_TEMPLATE,
        &[
            ("KEYS_NOTE", note),
            ("THROUGH", through),
            ("ROUTE_REFRESH", &blocks::route_refresh(p, keys)),
        ],
    )
}
const CACHE_TEMPLATE: &str = include_str!("../../templates/cache.conf.in");
const FLEET_EDGE_HEAD: &str = include_str!("../../templates/fleet-edge-head.conf.in");
const FLEET_EDGE_UPSTREAM: &str = include_str!("../../templates/fleet-edge-upstream.conf.in");
const FLEET_PARENT_HEAD: &str = include_str!("../../templates/fleet-parent-head.conf.in");
const FLEET_PARENT_UPSTREAM: &str = include_str!("../../templates/fleet-parent-upstream.conf.in");
const FLEET_SIGNER_HEAD: &str = include_str!("../../templates/fleet-signer-head.conf.in");

/// What a bypassed request meets in the single Squid (the middle of icap.conf.in's
/// bypass comment).
const SINGLE_ICAP_WHY: &str = "\
# The service runs for hits too; s3squid-storeid maps the public URL to the same store ID,
# so fresh cached copies are still served while it is bypassed. No cache_peer serves a
# public host, so a miss or a refresh ends at once in a 5xx (Squid 5.7 answers 502), and a
# stale copy is served if there is one.";

/// What a bypassed request meets in the signing Squid.
const SIGNER_ICAP_WHY: &str = "\
# No cache_peer serves a public host, so such a request ends at once in a 5xx (Squid 5.7
# answers 502), and the edge serves its stale copy.";

/// Why the single Squid uses store IDs (the first comment of its store-ID block).
const SINGLE_STOREID_WHY: &str =
    "# Every signed URL differs (date, signature), so without store IDs nothing would ever hit.\n";
/// Why the rewrite layout's Squid uses store IDs.
const REWRITE_STOREID_WHY: &str = "\
# Unsigned S3 URLs do not change from one request to the next, so this Squid would cache
# without store IDs too. With them its cache keys are those of the single layout (switching
# layouts keeps the cache), and a request that keeps its public URL because s3squid-rewrite
# failed still finds the cached copy.
";
/// Why the signing and the single Squid run s3squid-rewrite.
const ICAP_REWRITE_WHY: &str = "\
# A route is unsigned (auth = \"none\"), so s3squid-rewrite runs here too: it maps those routes
# while s3squid-icap is down or bypassed, so they keep working then. While s3squid-icap is up,
# it has mapped such a request already (it names S3 now, and url_rewrite_access below skips the
# helper) or answered it itself (a refusal or a redirect).
";
/// Why the rewrite layout's Squid runs s3squid-rewrite.
const REWRITE_REWRITE_WHY: &str = "\
# This Squid's only mapping: there is no ICAP service, and nothing signs.
";

/// Fills a compiled-in template.
///
/// # Panics
///
/// If the template names a placeholder `vars` lacks: a bug in this module, which the
/// tests (rendering every layout) catch before it can ship.
fn fill(name: &str, template: &str, vars: &[(&str, &str)]) -> String {
    template::fill(template, vars).unwrap_or_else(|e| panic!("template {name}: {e}"))
}

/// The per-Squid block (identity, files, storage).
fn instance_block(p: &SquidConfParams, i: &SquidInstance, role: &str) -> String {
    let cache_mem_mb = i.cache_mem_mb.to_string();
    let max_obj = i.maximum_object_size_mb.to_string();
    let user = blocks::cache_effective_user(p);
    let access_log = blocks::access_log(p, i);
    fill(
        "instance.conf.in",
        INSTANCE_TEMPLATE,
        &[
            ("ROLE", role),
            ("VISIBLE_HOSTNAME", &i.visible_hostname),
            ("PID_FILENAME", &i.pid_filename.display().to_string()),
            ("CACHE_LOG", &i.cache_log.display().to_string()),
            ("ACCESS_LOG", &access_log),
            ("COREDUMP_DIR", &i.coredump_dir.display().to_string()),
            ("CACHE_EFFECTIVE_USER", &user),
            ("CACHE_MEM_MB", &cache_mem_mb),
            ("STORAGE", &blocks::storage(i)),
            ("MAXIMUM_OBJECT_SIZE_MB", &max_obj),
        ],
    )
}

/// What the peers section says about the Squid build the TLS options are written for.
fn tls_build_note(p: &SquidConfParams) -> String {
    if p.gnutls_squid {
        "# WARNING: rendered with --gnutls-squid, for a GnuTLS build: `tls-options=NORMAL:-VERS-TLS1.3\n\
         # tls-min-version=1.2` is exactly TLS 1.2 there, and S3's certificate is NOT checked.\n\
         # Anyone between this host and S3 can read the presigned URLs and feed objects into the\n\
         # cache. Install squid-openssl and render again without --gnutls-squid."
            .to_owned()
    } else {
        "# Rendered for an OpenSSL build (`tls-min-version=1.2` is a FATAL error in a GnuTLS one)."
            .to_owned()
    }
}

fn peers_block(p: &SquidConfParams, mode: Mode) -> String {
    let timeouts = match mode {
        Mode::Whole => S3_TIMEOUTS_TEMPLATE.to_owned(),
        Mode::Fragment => format!(
            "# How long a request waits for S3 (forward_timeout, read_timeout): {SEE_TAIL}\n"
        ),
    };
    fill(
        "s3-peers.conf.in",
        PEERS_TEMPLATE,
        &[
            ("S3_PEERS", &blocks::s3_peers(p, mode.scope())),
            ("TLS_BUILD_NOTE", &tls_build_note(p)),
            ("S3_TIMEOUTS", &timeouts),
        ],
    )
}

/// The store-ID section of the single and the rewrite layout.
fn store_id_block(p: &SquidConfParams, why: &str, mode: Mode) -> String {
    let access = match mode {
        Mode::Whole => "",
        Mode::Fragment => {
            "# Only requests that arrived on this fragment's ports go to the helper.\n\
             store_id_access allow s3squid_in\n\
             store_id_access deny all"
        }
    };
    fill(
        "store-id.conf.in",
        STORE_ID_TEMPLATE,
        &[
            ("STOREID_WHY", why),
            ("STOREID_COMMAND", &p.storeid_command),
            ("PER_CHILD", &blocks::per_child(p)),
            ("HELPER_CONCURRENCY", &p.helper_concurrency.to_string()),
            ("STORE_ID_ACCESS", access),
        ],
    )
}

/// The s3squid-rewrite section, with `command`.
fn url_rewrite_block(p: &SquidConfParams, command: &str, why: &str, mode: Mode) -> String {
    fill(
        "url-rewrite.conf.in",
        URL_REWRITE_TEMPLATE,
        &[
            ("REWRITE_WHY", why),
            ("REWRITE_COMMAND", command),
            (
                "REWRITE_ACCESS",
                &blocks::public_allow(
                    p,
                    format!("url_rewrite_access allow {}", mode.scope()).trim_end(),
                    None,
                ),
            ),
            ("PER_CHILD", &blocks::per_child(p)),
            ("HELPER_CONCURRENCY", &p.helper_concurrency.to_string()),
            ("REWRITE_TIMEOUT", blocks::rewrite_timeout(p)),
            ("REFUSED_HOST", REFUSED_HOST),
        ],
    )
}

/// The s3squid-rewrite section and the `adapted_http_access` rule for refused requests of a
/// Squid that also runs s3squid-icap: both empty unless
/// [`SquidConfParams::rewrite_beside_icap`]. The section starts with a blank line, to follow
/// the ICAP section.
fn icap_rewrite_blocks(p: &SquidConfParams, mode: Mode) -> (String, String) {
    if !p.rewrite_beside_icap {
        return (String::new(), String::new());
    }
    (
        format!(
            "\n{}",
            url_rewrite_block(p, &p.rewrite_command, ICAP_REWRITE_WHY, mode)
        ),
        blocks::refused_adapted_deny(mode.scope()),
    )
}

/// The ICAP section of a Squid that runs s3squid-icap.
fn icap_block(p: &SquidConfParams, why: &str, mode: Mode) -> String {
    let persistent = match mode {
        Mode::Whole => ICAP_PERSISTENT_TEMPLATE.to_owned(),
        Mode::Fragment => "\
# icap_connect_timeout, icap_io_timeout and icap_service_revival_delay apply to every ICAP
# service of this Squid (Debian's stock squid.conf has none). icap_persistent_connections is
# left at Squid's default (on): a request in flight when s3squid-icap hangs then waits up to 2
# x icap_io_timeout (about 10 s); `icap_persistent_connections off` in squid.conf bounds it at
# icap_io_timeout, for every ICAP service.
"
        .to_owned(),
    };
    fill(
        "icap.conf.in",
        ICAP_TEMPLATE,
        &[
            ("ICAP_URI", &p.icap_uri),
            ("ICAP_WHY", why),
            (
                "ICAP_ACCESS",
                &blocks::public_allow(
                    p,
                    &format!(
                        "adaptation_access s3sign allow {}s3squid_get_head",
                        mode.scope()
                    ),
                    None,
                ),
            ),
            ("ICAP_PERSISTENT", &persistent),
            (
                "ICAP_LOG_MESSAGES",
                &version::icap_log_messages(p.squid_version),
            ),
        ],
    )
}

/// Fills a whole-Squid or fragment template: the layout's `own` values first, then the
/// blocks every layout shares (a template uses those it names).
fn fill_squid(
    name: &str,
    template: &str,
    p: &SquidConfParams,
    own: &[(&str, &str)],
    mode: Mode,
) -> String {
    let scope = mode.scope();
    let allow = |directive: &str| {
        blocks::public_allow(p, format!("{directive} allow {scope}").trim_end(), None)
    };
    let collapsed = match mode {
        Mode::Whole => "",
        Mode::Fragment => {
            "# Only this fragment's requests collapse. If your Squid already collapses its other\n\
             # traffic (collapsed_forwarding on in squid.conf), delete the deny line.\n\
             collapsed_forwarding_access allow s3squid_in\n\
             collapsed_forwarding_access deny all"
        }
    };
    let shared = [
        (
            "PUBLIC_LISTEN",
            blocks::public_listen(p, mode == Mode::Fragment),
        ),
        ("PORT_NAMES", blocks::port_names(p)),
        ("PUBLIC_ACLS", blocks::public_acls(p)),
        ("PUBLIC_HTTP_ACCESS", allow("http_access")),
        ("PUBLIC_ADAPTED_ACCESS", allow("adapted_http_access")),
        ("S3_PEERS", peers_block(p, mode)),
        ("S3_ADAPTED_ACCESS", blocks::s3_adapted_allow(p, scope)),
        ("SERVE_STALE", SERVE_STALE_TEMPLATE.to_owned()),
        ("RANGES", RANGES_TEMPLATE.to_owned()),
        (
            "NO_BODY",
            fill("no-body.conf.in", NO_BODY_TEMPLATE, &[("SCOPE", scope)])
                .trim_end()
                .to_owned(),
        ),
        (
            "STORE_POLICY",
            fill(
                "store-policy.conf.in",
                STORE_POLICY_TEMPLATE,
                &[("SCOPE", scope), ("COLLAPSED_ACCESS", collapsed)],
            ),
        ),
        ("HYGIENE", HYGIENE_TEMPLATE.to_owned()),
        (
            "FRAGMENT_HEAD",
            FRAGMENT_HEAD_TEMPLATE.trim_end().to_owned(),
        ),
    ];
    let vars: Vec<(&str, &str)> = own
        .iter()
        .copied()
        .chain(shared.iter().map(|(n, v)| (*n, v.as_str())))
        .collect();
    fill(name, template, &vars)
}

/// The end of a fragment: the per-process settings it leaves alone, `notes` for its layout.
fn fragment_tail(notes: &str) -> String {
    fill(
        "fragment-tail.conf.in",
        FRAGMENT_TAIL_TEMPLATE,
        &[("PROCESS_NOTES", notes)],
    )
}

/// The two-tier edge: a caching Squid whose upstream is the signing Squid.
fn edge(p: &SquidConfParams) -> String {
    let head = fill(
        "edge-head.conf.in",
        EDGE_HEAD,
        &[("PUBLIC_LISTEN", &blocks::public_listen(p, false))],
    );
    let upstream = fill(
        "edge-upstream.conf.in",
        EDGE_UPSTREAM,
        &[("SIGNER_PEERS", &blocks::edge_signer_peers(p, ""))],
    );
    let what = CachingSquid {
        head: &head,
        instance: &p.edge,
        role: "edge",
        from: "",
        upstream: &upstream,
        through: "through the signer",
    };
    caching_squid(p, &what)
}

fn signer(p: &SquidConfParams) -> String {
    let (url_rewrite, refused) = icap_rewrite_blocks(p, Mode::Whole);
    fill_squid(
        "signer.conf.in",
        SIGNER_TEMPLATE,
        p,
        &[
            ("SIGNER_LISTEN", &p.signer_listen.to_string()),
            ("INSTANCE", &instance_block(p, &p.signer, "signing")),
            ("SIGNER_CLIENTS", &p.signer_clients.join(" ")),
            ("ICAP", &icap_block(p, SIGNER_ICAP_WHY, Mode::Whole)),
            ("URL_REWRITE", &url_rewrite),
            ("REFUSED_ADAPTED_ACCESS", &refused),
        ],
        Mode::Whole,
    )
}

fn single(p: &SquidConfParams) -> String {
    let (url_rewrite, refused) = icap_rewrite_blocks(p, Mode::Whole);
    fill_squid(
        "single.conf.in",
        SINGLE_TEMPLATE,
        p,
        &[
            ("INSTANCE", &instance_block(p, &p.single, "single")),
            ("ICAP", &icap_block(p, SINGLE_ICAP_WHY, Mode::Whole)),
            ("URL_REWRITE", &url_rewrite),
            (
                "STORE_ID",
                &store_id_block(p, SINGLE_STOREID_WHY, Mode::Whole),
            ),
            (
                "FRESHNESS",
                &freshness_block(p, blocks::CacheKeys::StoreId, "with S3"),
            ),
            ("REFUSED_ADAPTED_ACCESS", &refused),
        ],
        Mode::Whole,
    )
}

fn rewrite(p: &SquidConfParams) -> String {
    let command = &p.rewrite_command;
    fill_squid(
        "rewrite.conf.in",
        REWRITE_TEMPLATE,
        p,
        &[
            ("INSTANCE", &instance_block(p, &p.single, "rewrite")),
            (
                "URL_REWRITE",
                &url_rewrite_block(p, command, REWRITE_REWRITE_WHY, Mode::Whole),
            ),
            (
                "STORE_ID",
                &store_id_block(p, REWRITE_STOREID_WHY, Mode::Whole),
            ),
            (
                "FRESHNESS",
                &freshness_block(p, blocks::CacheKeys::StoreId, "with S3"),
            ),
            ("REFUSED_ADAPTED_ACCESS", &blocks::refused_adapted_deny("")),
        ],
        Mode::Whole,
    )
}

/// The fleet's edge: the same file on every edge host.
fn fleet_edge(p: &SquidConfParams) -> String {
    let head = fill(
        "fleet-edge-head.conf.in",
        FLEET_EDGE_HEAD,
        &[("PUBLIC_LISTEN", &blocks::public_listen(p, false))],
    );
    let upstream = fill(
        "fleet-edge-upstream.conf.in",
        FLEET_EDGE_UPSTREAM,
        &[("PARENT_PEERS", &blocks::fleet_parent_peers(p))],
    );
    let what = CachingSquid {
        head: &head,
        instance: &p.edge,
        role: "cache",
        from: "",
        upstream: &upstream,
        through: FLEET_THROUGH,
    };
    caching_squid(p, &what)
}

/// How a fleet edge or parent revalidates a stale copy (the freshness section's words).
const FLEET_THROUGH: &str = "upstream (an edge asks its parent, which answers\n\
# from its own copy while that is fresh; a parent asks the signing Squid)";

/// What differs between the caching Squids that key by public URL (the two-tier edge, a
/// fleet's edges and parents): everything else is `cache.conf.in`.
struct CachingSquid<'a> {
    /// Title and listening.
    head: &'a str,
    /// Its files and storage.
    instance: &'a SquidInstance,
    /// The instance block's role word.
    role: &'a str,
    /// Rules for clients before the method rules (a fleet parent: the edges only).
    from: &'a str,
    /// The upstream section.
    upstream: &'a str,
    /// How a stale copy is revalidated ("through the signer", "upstream").
    through: &'a str,
}

/// A caching Squid keyed by public URL.
fn caching_squid(p: &SquidConfParams, c: &CachingSquid<'_>) -> String {
    fill_squid(
        "cache.conf.in",
        CACHE_TEMPLATE,
        p,
        &[
            ("HEAD", c.head),
            ("INSTANCE", &instance_block(p, c.instance, c.role)),
            ("FROM", c.from),
            ("UPSTREAM", c.upstream),
            (
                "FRESHNESS",
                &freshness_block(p, blocks::CacheKeys::Public, c.through),
            ),
        ],
        Mode::Whole,
    )
}

/// The fleet's parent `n` (from 1).
fn fleet_parent(p: &SquidConfParams, n: usize, parent: &FleetParent) -> String {
    let head = fill(
        "fleet-parent-head.conf.in",
        FLEET_PARENT_HEAD,
        &[
            ("N", &n.to_string()),
            ("COUNT", &p.parents.len().to_string()),
            ("PARENT_LISTEN", &parent.listen.to_string()),
        ],
    );
    let upstream = fill(
        "fleet-parent-upstream.conf.in",
        FLEET_PARENT_UPSTREAM,
        &[("SIGNER_PEERS", &blocks::edge_signer_peers(p, ""))],
    );
    let from = blocks::edges_only(p);
    let what = CachingSquid {
        head: &head,
        instance: &parent.instance,
        role: "cache",
        from: &from,
        upstream: &upstream,
        through: FLEET_THROUGH,
    };
    caching_squid(p, &what)
}

/// The fleet's signing Squid: the two-tier one, taking the parents' requests too, under a
/// head of its own (everything before signer.conf.in's first section).
fn fleet_signer(p: &SquidConfParams) -> String {
    let mut q = p.clone();
    q.signer_clients = blocks::fleet_signer_clients(p);
    let text = signer(&q);
    let body = text
        .find("\n# ----")
        .and_then(|at| text.get(at + 1..))
        .unwrap_or(&text);
    let head = fill(
        "fleet-signer-head.conf.in",
        FLEET_SIGNER_HEAD,
        &[("SIGNER_CLIENTS", &q.signer_clients.join(" "))],
    );
    format!("{head}\n{body}")
}

/// Renders the squid.conf files of `layout`: `(file name, text)`, `edge.conf` and
/// `signer.conf` for [`Layout::TwoTier`], `squid.conf` for [`Layout::Single`] and
/// [`Layout::Rewrite`], `edge.conf`, `parent-1.conf` … `parent-N.conf` and `signer.conf` for
/// [`Layout::Fleet`].
pub fn render(layout: Layout, params: &SquidConfParams) -> Vec<(String, String)> {
    match layout {
        Layout::Fleet => {
            let mut files = vec![("edge.conf".to_owned(), fleet_edge(params))];
            for (i, parent) in params.parents.iter().enumerate() {
                let n = i + 1;
                files.push((format!("parent-{n}.conf"), fleet_parent(params, n, parent)));
            }
            files.push(("signer.conf".to_owned(), fleet_signer(params)));
            files
        }
        Layout::TwoTier => vec![
            ("edge.conf".to_owned(), edge(params)),
            ("signer.conf".to_owned(), signer(params)),
        ],
        Layout::Single => vec![("squid.conf".to_owned(), single(params))],
        Layout::Rewrite => vec![("squid.conf".to_owned(), rewrite(params))],
    }
}

/// Per-process settings the single and the rewrite fragments leave to squid.conf.
const SINGLE_PROCESS_NOTES: &str = "\
# - How long a request waits for S3. Squid's defaults (forward_timeout 4 minutes, read_timeout
#   15 minutes) hold every miss and every refresh of a stale copy that long while S3 hangs
#   (accepts connections but does not answer); a refused connection fails at once
#   (connect-timeout=5 on each S3 peer). The whole-Squid samples set
#     forward_timeout 10 seconds
#     read_timeout 10 seconds
#   If your other traffic cannot live with those, prefer the two-tier layout: its signing Squid
#   is a process of its own, with its own timeouts.
# - Ranges: quick_abort_min 64 MB, quick_abort_max 64 MB and quick_abort_pct 95 let Squid finish
#   caching an object whose client left (a range answered); Squid's defaults (16 KB) stop
#   reading, so an object fetched for a range is cached only if the range reached its end.
#   write_timeout 5 seconds drops a client that stopped reading before it stalls a fetch shared
#   with others (Squid's default: 15 minutes).
";

/// Per-process settings the edge fragment leaves to squid.conf.
const EDGE_PROCESS_NOTES: &str = "\
# - read_timeout: the whole-Squid edge waits 30 seconds for the signing Squid, which itself gives
#   up on S3 after 10 seconds and answers 504 (a stale copy is then served). Squid's default, 15
#   minutes, matters only if the signing Squid itself hangs.
# - Ranges: quick_abort_min 64 MB, quick_abort_max 64 MB and quick_abort_pct 95 let Squid finish
#   caching an object whose client left (a range answered); Squid's defaults (16 KB) stop
#   reading, so an object fetched for a range is cached only if the range reached its end.
#   write_timeout 5 seconds drops a client that stopped reading before it stalls a fetch shared
#   with others (Squid's default: 15 minutes).
";

/// The file name of the single and the rewrite layout's fragment: `00-` so that conf.d's
/// glob reads it before the operator's own files there, whose `http_access` rules would
/// otherwise see requests on its ports first.
pub const FRAGMENT_FILE: &str = "00-s3squid.conf";
/// The file name of the two-tier edge's fragment (`00-` as for [`FRAGMENT_FILE`]).
pub const FRAGMENT_EDGE_FILE: &str = "00-s3squid-edge.conf";

/// The fragment of the single or the rewrite layout ([`FRAGMENT_FILE`]).
fn fragment_single(p: &SquidConfParams, layout: Layout) -> String {
    let mode = Mode::Fragment;
    let (callouts, refused, what, one_rewriter) = match layout {
        Layout::Rewrite => (
            format!(
                "{}\n{}",
                url_rewrite_block(p, &p.rewrite_command, REWRITE_REWRITE_WHY, mode),
                store_id_block(p, REWRITE_STOREID_WHY, mode)
            ),
            blocks::refused_adapted_deny(mode.scope()),
            "s3squid-rewrite (auth = \"none\" routes only)\n# and s3squid-storeid.",
            " and one url_rewrite_program",
        ),
        _ => {
            let (url_rewrite, refused) = icap_rewrite_blocks(p, mode);
            (
                format!(
                    "{}{url_rewrite}\n{}",
                    icap_block(p, SINGLE_ICAP_WHY, mode),
                    store_id_block(p, SINGLE_STOREID_WHY, mode)
                ),
                refused,
                "s3squid-icap (an ICAP service) and s3squid-storeid\n# (a store_id_program).",
                if p.rewrite_beside_icap {
                    " and one url_rewrite_program"
                } else {
                    ""
                },
            )
        }
    };
    fill_squid(
        "fragment-single.conf.in",
        FRAGMENT_SINGLE_TEMPLATE,
        p,
        &[
            ("LAYOUT", layout.as_str()),
            ("STORE_ID_HOST", s3map::storeid::STORE_ID_HOST),
            ("WHAT", what),
            ("ONE_REWRITER", one_rewriter),
            ("CALLOUTS", callouts.trim_end()),
            ("REFUSED_ADAPTED_ACCESS", &refused),
            (
                "FRESHNESS",
                &freshness_block(p, blocks::CacheKeys::StoreId, "with S3"),
            ),
            ("TAIL", &fragment_tail(SINGLE_PROCESS_NOTES)),
        ],
        mode,
    )
}

/// The edge's fragment ([`FRAGMENT_EDGE_FILE`]) of the two-tier layout.
fn fragment_edge(p: &SquidConfParams) -> String {
    let mode = Mode::Fragment;
    fill_squid(
        "fragment-edge.conf.in",
        FRAGMENT_EDGE_TEMPLATE,
        p,
        &[
            ("SIGNER_LISTEN", &p.signer_listen.to_string()),
            (
                "OTHER_PORTS_DENY",
                &blocks::public_hosts_deny(p, "http_access deny !s3squid_in"),
            ),
            ("SIGNER_PEERS", &blocks::edge_signer_peers(p, mode.scope())),
            (
                "FRESHNESS",
                &freshness_block(p, blocks::CacheKeys::Public, "through the signer"),
            ),
            ("TAIL", &fragment_tail(EDGE_PROCESS_NOTES)),
        ],
        mode,
    )
}

/// Renders what an operator adds to a Squid that already serves other traffic (`--fragment`):
/// [`FRAGMENT_EDGE_FILE`] (for conf.d) and `signer.conf` (a Squid of its own, as in the whole
/// layout) for [`Layout::TwoTier`], [`FRAGMENT_FILE`] (for conf.d) for [`Layout::Single`] and
/// [`Layout::Rewrite`]. [`Layout::Fleet`] has no fragment form (its edges would be the
/// two-tier edge's fragment with CARP parents; not written yet): nothing, and the command line
/// refuses `--fragment` with it.
pub fn render_fragment(layout: Layout, params: &SquidConfParams) -> Vec<(String, String)> {
    match layout {
        Layout::Fleet => Vec::new(),
        Layout::TwoTier => vec![
            (FRAGMENT_EDGE_FILE.to_owned(), fragment_edge(params)),
            ("signer.conf".to_owned(), signer(params)),
        ],
        Layout::Single | Layout::Rewrite => {
            vec![(FRAGMENT_FILE.to_owned(), fragment_single(params, layout))]
        }
    }
}
