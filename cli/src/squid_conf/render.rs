//! Filling the templates in `cli/templates/` with [`SquidConfParams`].

use s3map::decide::REFUSED_HOST;

use super::{blocks, template, version, Layout, SquidConfParams, SquidInstance};

const EDGE_TEMPLATE: &str = include_str!("../../templates/edge.conf.in");
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

fn peers_block(p: &SquidConfParams) -> String {
    fill(
        "s3-peers.conf.in",
        PEERS_TEMPLATE,
        &[
            ("S3_PEERS", &blocks::s3_peers(p)),
            ("TLS_BUILD_NOTE", &tls_build_note(p)),
        ],
    )
}

/// The store-ID section of the single and the rewrite layout.
fn store_id_block(p: &SquidConfParams, why: &str) -> String {
    fill(
        "store-id.conf.in",
        STORE_ID_TEMPLATE,
        &[
            ("STOREID_WHY", why),
            ("STOREID_COMMAND", &p.storeid_command),
            ("PER_CHILD", &blocks::per_child(p)),
            ("HELPER_CONCURRENCY", &p.helper_concurrency.to_string()),
        ],
    )
}

/// The s3squid-rewrite section, with `command`.
fn url_rewrite_block(p: &SquidConfParams, command: &str, why: &str) -> String {
    fill(
        "url-rewrite.conf.in",
        URL_REWRITE_TEMPLATE,
        &[
            ("REWRITE_WHY", why),
            ("REWRITE_COMMAND", command),
            (
                "REWRITE_ACCESS",
                &blocks::public_allow(p, "url_rewrite_access allow", None),
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
fn icap_rewrite_blocks(p: &SquidConfParams) -> (String, String) {
    if !p.rewrite_beside_icap {
        return (String::new(), String::new());
    }
    (
        format!(
            "\n{}",
            url_rewrite_block(p, &p.rewrite_command, ICAP_REWRITE_WHY)
        ),
        blocks::refused_adapted_deny(),
    )
}

/// The ICAP section of a Squid that runs s3squid-icap.
fn icap_block(p: &SquidConfParams, why: &str) -> String {
    fill(
        "icap.conf.in",
        ICAP_TEMPLATE,
        &[
            ("ICAP_URI", &p.icap_uri),
            ("ICAP_WHY", why),
            (
                "ICAP_ACCESS",
                &blocks::public_allow(p, "adaptation_access s3sign allow s3squid_get_head", None),
            ),
            (
                "ICAP_LOG_MESSAGES",
                &version::icap_log_messages(p.squid_version),
            ),
        ],
    )
}

/// Fills a whole-Squid template: the layout's `own` values first, then the blocks every
/// layout shares (a template uses those it names).
fn fill_squid(name: &str, template: &str, p: &SquidConfParams, own: &[(&str, &str)]) -> String {
    let shared = [
        ("PUBLIC_LISTEN", blocks::public_listen(p)),
        ("PUBLIC_ACLS", blocks::public_acls(p)),
        (
            "PUBLIC_HTTP_ACCESS",
            blocks::public_allow(p, "http_access allow", None),
        ),
        (
            "PUBLIC_ADAPTED_ACCESS",
            blocks::public_allow(p, "adapted_http_access allow", None),
        ),
        ("S3_PEERS", peers_block(p)),
        ("S3_ADAPTED_ACCESS", blocks::s3_adapted_allow(p)),
        ("STORE_ID_REFRESH", blocks::store_id_refresh()),
        ("SERVE_STALE", SERVE_STALE_TEMPLATE.to_owned()),
        ("RANGES", RANGES_TEMPLATE.to_owned()),
        ("NO_BODY", NO_BODY_TEMPLATE.trim_end().to_owned()),
        ("STORE_POLICY", STORE_POLICY_TEMPLATE.to_owned()),
        ("HYGIENE", HYGIENE_TEMPLATE.to_owned()),
    ];
    let vars: Vec<(&str, &str)> = own
        .iter()
        .copied()
        .chain(shared.iter().map(|(n, v)| (*n, v.as_str())))
        .collect();
    fill(name, template, &vars)
}

fn edge(p: &SquidConfParams) -> String {
    fill_squid(
        "edge.conf.in",
        EDGE_TEMPLATE,
        p,
        &[
            ("INSTANCE", &instance_block(p, &p.edge, "edge")),
            ("SIGNER_PEERS", &blocks::edge_signer_peers(p)),
            ("PUBLIC_REFRESH", &blocks::public_refresh(p)),
        ],
    )
}

fn signer(p: &SquidConfParams) -> String {
    let (url_rewrite, refused) = icap_rewrite_blocks(p);
    fill_squid(
        "signer.conf.in",
        SIGNER_TEMPLATE,
        p,
        &[
            ("SIGNER_LISTEN", &p.signer_listen.to_string()),
            ("INSTANCE", &instance_block(p, &p.signer, "signing")),
            ("SIGNER_CLIENTS", &p.signer_clients.join(" ")),
            ("ICAP", &icap_block(p, SIGNER_ICAP_WHY)),
            ("URL_REWRITE", &url_rewrite),
            ("REFUSED_ADAPTED_ACCESS", &refused),
        ],
    )
}

fn single(p: &SquidConfParams) -> String {
    let (url_rewrite, refused) = icap_rewrite_blocks(p);
    fill_squid(
        "single.conf.in",
        SINGLE_TEMPLATE,
        p,
        &[
            ("INSTANCE", &instance_block(p, &p.single, "single")),
            ("ICAP", &icap_block(p, SINGLE_ICAP_WHY)),
            ("URL_REWRITE", &url_rewrite),
            ("STORE_ID", &store_id_block(p, SINGLE_STOREID_WHY)),
            ("REFUSED_ADAPTED_ACCESS", &refused),
        ],
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
                &url_rewrite_block(p, command, REWRITE_REWRITE_WHY),
            ),
            ("STORE_ID", &store_id_block(p, REWRITE_STOREID_WHY)),
            ("REFUSED_ADAPTED_ACCESS", &blocks::refused_adapted_deny()),
        ],
    )
}

/// Renders the squid.conf files of `layout`: `(file name, text)`, `edge.conf` and
/// `signer.conf` for [`Layout::TwoTier`], `squid.conf` for [`Layout::Single`] and
/// [`Layout::Rewrite`].
pub fn render(layout: Layout, params: &SquidConfParams) -> Vec<(String, String)> {
    match layout {
        Layout::TwoTier => vec![
            ("edge.conf".to_owned(), edge(params)),
            ("signer.conf".to_owned(), signer(params)),
        ],
        Layout::Single => vec![("squid.conf".to_owned(), single(params))],
        Layout::Rewrite => vec![("squid.conf".to_owned(), rewrite(params))],
    }
}
