//! Filling the templates in `cli/templates/` with [`SquidConfParams`].

use super::{blocks, template, Layout, SquidConfParams, SquidInstance};

const EDGE_TEMPLATE: &str = include_str!("../../templates/edge.conf.in");
const SIGNER_TEMPLATE: &str = include_str!("../../templates/signer.conf.in");
const SINGLE_TEMPLATE: &str = include_str!("../../templates/single.conf.in");
const INSTANCE_TEMPLATE: &str = include_str!("../../templates/instance.conf.in");
const STORE_POLICY_TEMPLATE: &str = include_str!("../../templates/store-policy.conf.in");
const HYGIENE_TEMPLATE: &str = include_str!("../../templates/hygiene.conf.in");
const PEERS_TEMPLATE: &str = include_str!("../../templates/s3-peers.conf.in");

/// Every template, by file name (for the tests).
pub const TEMPLATES: [(&str, &str); 7] = [
    ("edge.conf.in", EDGE_TEMPLATE),
    ("signer.conf.in", SIGNER_TEMPLATE),
    ("single.conf.in", SINGLE_TEMPLATE),
    ("instance.conf.in", INSTANCE_TEMPLATE),
    ("store-policy.conf.in", STORE_POLICY_TEMPLATE),
    ("hygiene.conf.in", HYGIENE_TEMPLATE),
    ("s3-peers.conf.in", PEERS_TEMPLATE),
];

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
    let cache_dir_mb = i.cache_dir_mb.to_string();
    let cache_mem_mb = i.cache_mem_mb.to_string();
    let max_obj = i.maximum_object_size_mb.to_string();
    let user = blocks::cache_effective_user(p);
    fill(
        "instance.conf.in",
        INSTANCE_TEMPLATE,
        &[
            ("ROLE", role),
            ("VISIBLE_HOSTNAME", &i.visible_hostname),
            ("PID_FILENAME", &i.pid_filename.display().to_string()),
            ("CACHE_LOG", &i.cache_log.display().to_string()),
            ("ACCESS_LOG", &i.access_log.display().to_string()),
            ("COREDUMP_DIR", &i.coredump_dir.display().to_string()),
            ("CACHE_EFFECTIVE_USER", &user),
            ("CACHE_MEM_MB", &cache_mem_mb),
            ("CACHE_DIR", &i.cache_dir.display().to_string()),
            ("CACHE_DIR_MB", &cache_dir_mb),
            ("MAXIMUM_OBJECT_SIZE_MB", &max_obj),
        ],
    )
}

fn peers_block(p: &SquidConfParams) -> String {
    fill(
        "s3-peers.conf.in",
        PEERS_TEMPLATE,
        &[("S3_PEERS", &blocks::s3_peers(p))],
    )
}

fn edge(p: &SquidConfParams) -> String {
    fill(
        "edge.conf.in",
        EDGE_TEMPLATE,
        &[
            ("PUBLIC_LISTEN", &blocks::public_listen(p)),
            ("INSTANCE", &instance_block(p, &p.edge, "edge")),
            ("PUBLIC_ACLS", &blocks::public_acls(p)),
            (
                "PUBLIC_HTTP_ACCESS",
                &blocks::public_allow(p, "http_access allow", None),
            ),
            ("SIGNER_PEERS", &blocks::edge_signer_peers(p)),
            ("PUBLIC_REFRESH", &blocks::public_refresh(p)),
            ("STORE_POLICY", STORE_POLICY_TEMPLATE),
            ("HYGIENE", HYGIENE_TEMPLATE),
        ],
    )
}

fn signer(p: &SquidConfParams) -> String {
    fill(
        "signer.conf.in",
        SIGNER_TEMPLATE,
        &[
            ("SIGNER_LISTEN", &p.signer_listen.to_string()),
            ("INSTANCE", &instance_block(p, &p.signer, "signing")),
            ("SIGNER_CLIENTS", &p.signer_clients.join(" ")),
            ("PUBLIC_ACLS", &blocks::public_acls(p)),
            (
                "PUBLIC_HTTP_ACCESS",
                &blocks::public_allow(p, "http_access allow", None),
            ),
            ("ICAP_URI", &p.icap_uri),
            ("S3_PEERS", &peers_block(p)),
            (
                "PUBLIC_ADAPTED_ACCESS",
                &blocks::public_allow(p, "adapted_http_access allow", None),
            ),
            ("S3_ADAPTED_ACCESS", &blocks::s3_adapted_allow(p)),
            ("STORE_POLICY", STORE_POLICY_TEMPLATE),
            ("HYGIENE", HYGIENE_TEMPLATE),
        ],
    )
}

fn single(p: &SquidConfParams) -> String {
    fill(
        "single.conf.in",
        SINGLE_TEMPLATE,
        &[
            ("PUBLIC_LISTEN", &blocks::public_listen(p)),
            ("INSTANCE", &instance_block(p, &p.single, "single")),
            ("PUBLIC_ACLS", &blocks::public_acls(p)),
            (
                "PUBLIC_HTTP_ACCESS",
                &blocks::public_allow(p, "http_access allow", None),
            ),
            ("ICAP_URI", &p.icap_uri),
            ("STOREID_COMMAND", &p.storeid_command),
            ("S3_PEERS", &peers_block(p)),
            (
                "PUBLIC_ADAPTED_ACCESS",
                &blocks::public_allow(p, "adapted_http_access allow", None),
            ),
            ("S3_ADAPTED_ACCESS", &blocks::s3_adapted_allow(p)),
            ("STORE_ID_REFRESH", &blocks::store_id_refresh()),
            ("STORE_POLICY", STORE_POLICY_TEMPLATE),
            ("HYGIENE", HYGIENE_TEMPLATE),
        ],
    )
}

/// Renders the squid.conf files of `layout`: `(file name, text)`, `edge.conf` and
/// `signer.conf` for [`Layout::TwoTier`], `squid.conf` for [`Layout::Single`].
pub fn render(layout: Layout, params: &SquidConfParams) -> Vec<(String, String)> {
    match layout {
        Layout::TwoTier => vec![
            ("edge.conf".to_owned(), edge(params)),
            ("signer.conf".to_owned(), signer(params)),
        ],
        Layout::Single => vec![("squid.conf".to_owned(), single(params))],
    }
}
