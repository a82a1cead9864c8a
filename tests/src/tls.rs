//! S3 behind TLS: nginx terminating TLS on a loopback port in front of a plain loopback
//! server (s3s-fs), with a test CA made for the run and a server certificate for given
//! names, optionally refusing every handshake without SNI for one of them.
//!
//! nginx rather than stunnel: `ssl_reject_handshake on` in a default server refuses a
//! handshake whose SNI names none of the server's names (or that has no SNI) with an
//! `unrecognized_name` alert, as servers that need SNI do; stunnel picks its first service
//! instead. The request goes on to the backend as the client sent it (`proxy_pass` without
//! a URI keeps the raw request target; `Host` is passed on: SigV4 signs it), and nginx's
//! access log records the SNI each connection sent ([`TlsFront::requests`]).
//!
//! The CA and the certificates are made in-process with rcgen (ECDSA P-256): no `openssl`
//! command, no files but the ones nginx and Squid read, about a millisecond a certificate.

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::{free_port, wait_port, Proc, Sandbox};

/// A certificate authority made for one test run.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// Its certificate (PEM): what a client trusts.
    pub pem: String,
}

impl TestCa {
    /// A new CA named `name` (its subject CN), with a fresh key.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        TestCa {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// Writes the CA certificate to `path` (a `tls-cafile=` for Squid); returns `path`.
    pub fn write(&self, path: &Path) -> PathBuf {
        std::fs::write(path, &self.pem).unwrap();
        path.to_owned()
    }

    /// A server certificate for `names` (its subjectAltNames; the first is also its CN),
    /// signed by this CA: (certificate PEM, private key PEM).
    pub fn server_cert(&self, names: &[&str]) -> (String, String) {
        let sans: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(sans).unwrap();
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// What a [`TlsFront`] presents.
#[derive(Debug, Clone)]
pub struct TlsFrontOptions {
    /// The names of its certificate, also nginx's `server_name`s.
    pub names: Vec<String>,
    /// Refuse handshakes without SNI, or with an SNI that is none of `names`
    /// (`ssl_reject_handshake on` in the default server).
    pub require_sni: bool,
}

/// One request nginx passed on (or refused after the handshake), from its access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsRequest {
    /// The SNI the client sent (`None`: it sent none).
    pub sni: Option<String>,
    /// `TLSv1.3`, `TLSv1.2`.
    pub protocol: String,
    /// The request line, e.g. `GET /photos/a.jpg?X-Amz-... HTTP/1.1`.
    pub request: String,
    /// The status nginx logged (499: the client closed first).
    pub status: u16,
}

/// A running nginx terminating TLS for a loopback backend; stopped by PID when dropped.
pub struct TlsFront {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The certificate of the CA that signed its certificate (PEM file).
    pub ca_file: PathBuf,
    /// nginx's access log: one line per request, with the SNI ([`TlsFront::requests`]).
    pub access_log: PathBuf,
    /// nginx's error log (`info`: refused and failed handshakes are logged there).
    pub error_log: PathBuf,
    /// The nginx process (`master_process off`: one process, its PID is the server).
    pub proc: Proc,
}

impl TlsFront {
    /// Starts a front on a free port before `127.0.0.1:backend_port`, with a CA of its own
    /// (made for this run, written to [`TlsFront::ca_file`]). `tag` names its files.
    pub fn start(sb: &Sandbox, tag: &str, backend_port: u16, opts: &TlsFrontOptions) -> TlsFront {
        let ca = TestCa::new(&format!("s3squid e2e CA {tag}"));
        Self::start_with(sb, tag, free_port(), backend_port, &ca, opts)
    }

    /// Starts a front on `port` with a certificate signed by `ca` (e.g. a CA the client
    /// does not trust, or a certificate for other names than the client asks for).
    pub fn start_with(
        sb: &Sandbox,
        tag: &str,
        port: u16,
        backend_port: u16,
        ca: &TestCa,
        opts: &TlsFrontOptions,
    ) -> TlsFront {
        let dir = sb.path(&format!("tls-{tag}"));
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        let ca_file = ca.write(&dir.join("ca.pem"));
        let names: Vec<&str> = opts.names.iter().map(String::as_str).collect();
        let (cert, key) = ca.server_cert(&names);
        let cert_file = dir.join("server.pem");
        let key_file = dir.join("server.key");
        std::fs::write(&cert_file, cert).unwrap();
        std::fs::write(&key_file, key).unwrap();
        let access_log = dir.join("access.log");
        let error_log = dir.join("error.log");
        let conf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            nginx_conf(
                &dir,
                port,
                backend_port,
                &cert_file,
                &key_file,
                &access_log,
                &error_log,
                opts,
            ),
        )
        .unwrap();
        let mut cmd = Command::new(nginx_program());
        // -e: the error log before the config is read (else /var/log/nginx/error.log);
        // -p: the prefix for any relative path.
        cmd.arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(&error_log)
            .arg("-p")
            .arg(&dir);
        let proc = Proc::spawn(&format!("nginx-{tag}"), cmd, &dir.join("stderr"));
        wait_port(port, &format!("nginx (TLS front {tag})"));
        TlsFront {
            port,
            ca_file,
            access_log,
            error_log,
            proc,
        }
    }

    /// The requests so far, in order.
    pub fn requests(&self) -> Vec<TlsRequest> {
        let text = std::fs::read_to_string(&self.access_log).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let mut f = l.splitn(4, '\t');
                let sni = f.next()?;
                let protocol = f.next()?.to_owned();
                let status = f.next()?.parse().ok()?;
                let request = f.next()?.to_owned();
                Some(TlsRequest {
                    // nginx logs an empty variable as "-".
                    sni: (sni != "-" && !sni.is_empty()).then(|| sni.to_owned()),
                    protocol,
                    request,
                    status,
                })
            })
            .collect()
    }

    /// nginx's error log so far.
    pub fn error_log_text(&self) -> String {
        std::fs::read_to_string(&self.error_log).unwrap_or_default()
    }
}

/// The nginx binary: `S3SQUID_E2E_NGINX`, else `nginx` on PATH, else Debian's
/// `/usr/sbin/nginx` (not on a non-root user's PATH).
fn nginx_program() -> PathBuf {
    if let Some(p) = std::env::var_os("S3SQUID_E2E_NGINX") {
        return PathBuf::from(p);
    }
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join("nginx").is_file()));
    if on_path {
        PathBuf::from("nginx")
    } else {
        PathBuf::from("/usr/sbin/nginx")
    }
}

#[allow(clippy::too_many_arguments)]
fn nginx_conf(
    dir: &Path,
    port: u16,
    backend_port: u16,
    cert: &Path,
    key: &Path,
    access_log: &Path,
    error_log: &Path,
    opts: &TlsFrontOptions,
) -> String {
    let tmp = dir.join("tmp");
    let tmp = tmp.display();
    let cert = cert.display();
    let key = key.display();
    let names = opts.names.join(" ");
    // Without require_sni the one server is the default: any SNI, or none, gets it.
    let reject = if opts.require_sni {
        format!(
            "  # No SNI, or an SNI for none of the names below: refuse the handshake\n\
             \x20 # (unrecognized_name alert), as servers that need SNI do.\n\
             \x20 server {{\n    listen 127.0.0.1:{port} ssl default_server;\n    ssl_reject_handshake on;\n  }}\n"
        )
    } else {
        String::new()
    };
    let default = if opts.require_sni {
        ""
    } else {
        " default_server"
    };
    format!(
        "# TLS front of the s3squid e2e harness (tests/src/tls.rs).\n\
         daemon off;\n\
         master_process off;\n\
         worker_processes 1;\n\
         pid {dir}/nginx.pid;\n\
         error_log {error_log} info;\n\
         events {{\n  worker_connections 1024;\n}}\n\
         http {{\n\
         \x20 log_format tls \"$ssl_server_name\\t$ssl_protocol\\t$status\\t$request\";\n\
         \x20 access_log {access_log} tls;\n\
         \x20 client_body_temp_path {tmp}/body;\n\
         \x20 proxy_temp_path {tmp}/proxy;\n\
         \x20 fastcgi_temp_path {tmp}/fastcgi;\n\
         \x20 uwsgi_temp_path {tmp}/uwsgi;\n\
         \x20 scgi_temp_path {tmp}/scgi;\n\
         \x20 # Presigned URLs can be long; uploads of any size.\n\
         \x20 large_client_header_buffers 8 64k;\n\
         \x20 client_max_body_size 0;\n\
         \x20 ssl_protocols TLSv1.2 TLSv1.3;\n\
         \x20 # Pass the request on as it came (Host is signed), streaming both ways.\n\
         \x20 proxy_http_version 1.1;\n\
         \x20 proxy_set_header Host $http_host;\n\
         \x20 proxy_buffering off;\n\
         \x20 proxy_request_buffering off;\n\
         \x20 proxy_read_timeout 300s;\n\
         {reject}\
         \x20 server {{\n\
         \x20   listen 127.0.0.1:{port} ssl{default};\n\
         \x20   server_name {names};\n\
         \x20   ssl_certificate {cert};\n\
         \x20   ssl_certificate_key {key};\n\
         \x20   location / {{\n\
         \x20     proxy_pass http://127.0.0.1:{backend_port};\n\
         \x20   }}\n\
         \x20 }}\n\
         }}\n",
        dir = dir.display(),
        error_log = error_log.display(),
        access_log = access_log.display(),
    )
}

/// The TLS library a Squid binary was built with, from its `squid -v` configure options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SquidTls {
    /// `--with-openssl` (Debian's `squid-openssl`).
    OpenSsl,
    /// `--with-gnutls` (Debian's `squid`).
    GnuTls,
    /// Neither.
    None,
}

/// The TLS library of the Squid the harness runs ([`crate::squid::squid_program`]).
pub fn squid_tls() -> SquidTls {
    let out = Command::new(crate::squid::squid_program())
        .arg("-v")
        .output()
        .unwrap_or_else(|e| panic!("squid -v: {e}"));
    let v = String::from_utf8_lossy(&out.stdout);
    if v.contains("'--with-openssl") {
        SquidTls::OpenSsl
    } else if v.contains("'--with-gnutls'") {
        SquidTls::GnuTls
    } else {
        SquidTls::None
    }
}
