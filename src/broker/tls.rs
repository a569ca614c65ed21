//! TLS material for `amqps://` and `https://` (the management API), per connection: that of
//! the command line (`--ca-file`, `--client-cert`), and for a connection whose broker comes
//! from a Magento install's `app/etc/env.php`, that of its `ssl_options` (the command line's
//! files still win). Nothing here ever shows a password or a key: the `Debug` of every type
//! masks them, and errors name files, never their contents.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lapin::tcp::{OwnedIdentity, OwnedTLSConfig};
use rustls_pki_types::pem::{PemObject, SectionKind};

use crate::secret::{self, Secret};
use crate::source::magento::AmqpConnection;

/// Makes ring the TLS stack's cryptography for the process, for AMQP (lapin's rustls) and
/// the management API (reqwest's) alike; called before either connects. (Only ring is
/// compiled in; installing it explicitly keeps the choice when another provider comes in
/// through a dependency's features.)
pub fn use_ring() {
    // Err when a provider is installed already: by an earlier call.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// What to give when a broker wants a client certificate.
pub const GIVE_CLIENT_CERT: &str =
    "give one with --client-cert (or ssl_options.local_cert in env.php)";

/// A TLS failure (rustls's words in `raw`, an error's text) in the user's terms, with what
/// to do about it; None when `raw` is no TLS failure this knows. For AMQP and the
/// management API alike.
pub fn explain(raw: &str) -> Option<String> {
    let text = if raw.contains("CertificateRequired") {
        format!("the broker requires a client certificate ({raw}): {GIVE_CLIENT_CERT}")
    } else if raw.contains("BadCertificate")
        || raw.contains("UnknownCA")
        || raw.contains("CertificateUnknown")
    {
        format!(
            "the broker does not accept the client certificate ({raw}): give one signed by a CA the broker trusts"
        )
    } else if raw.contains("NotValidForName") {
        format!(
            "the broker's TLS certificate is not valid for this host name ({raw}): connect with the name the certificate was issued for"
        )
    } else if raw.contains("UnknownIssuer") || raw.contains("invalid peer certificate") {
        format!(
            "the broker's TLS certificate is not trusted ({raw}): give the CA that signed it with --ca-file (or ssl_options.cafile in env.php)"
        )
    } else if raw.contains("InvalidContentType") || raw.contains("corrupt message") {
        format!(
            "the port does not speak TLS ({raw}): an https:// or amqps:// URL needs the broker's TLS port"
        )
    } else {
        return None;
    };
    Some(text)
}

/// One connection's TLS material. Its `Debug` shows neither the password nor the files'
/// contents.
#[derive(Clone, Default)]
pub struct Tls {
    /// CA certificates, PEM.
    pub ca_pem: Option<String>,
    /// The client identity, when the broker asks for one.
    pub identity: Option<Identity>,
}

/// A client identity: a certificate chain and its private key.
#[derive(Clone)]
pub enum Identity {
    /// PKCS#12 DER and its password (`--client-cert`).
    Pkcs12 { der: Vec<u8>, password: Secret },
    /// PEM: the certificate chain (only its `CERTIFICATE` sections) and one unencrypted
    /// private key (PKCS#8, PKCS#1 or SEC1), as env.php's `local_cert` and `local_pk` give it.
    Pem { certs: String, key: Secret },
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "…"))
            .field("identity", &self.identity)
            .finish()
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Identity::Pkcs12 { .. } => "Pkcs12(…)",
            Identity::Pem { .. } => "Pem(…)",
        })
    }
}

impl Tls {
    /// lapin's TLS settings.
    pub(crate) fn config(&self) -> OwnedTLSConfig {
        OwnedTLSConfig {
            identity: self.identity.as_ref().map(|identity| match identity {
                Identity::Pkcs12 { der, password } => OwnedIdentity::PKCS12 {
                    der: der.clone(),
                    password: password.expose().to_string(),
                },
                Identity::Pem { certs, key } => OwnedIdentity::PKCS8 {
                    pem: certs.as_bytes().to_vec(),
                    key: key.expose().as_bytes().to_vec(),
                },
            }),
            cert_chain: self.ca_pem.clone(),
        }
    }
}

/// The TLS material of every connection: the command line's, unless a connection has its
/// own (one whose broker env.php gives).
#[derive(Clone, Debug, Default)]
pub struct TlsSet {
    default: Tls,
    connections: BTreeMap<String, Tls>,
}

impl TlsSet {
    pub fn new(default: Tls) -> TlsSet {
        TlsSet {
            default,
            connections: BTreeMap::new(),
        }
    }

    /// The command line's TLS material.
    pub fn default_tls(&self) -> &Tls {
        &self.default
    }

    pub fn insert(&mut self, connection: &str, tls: Tls) {
        self.connections.insert(connection.to_string(), tls);
    }

    pub fn for_connection(&self, connection: &str) -> &Tls {
        self.connections.get(connection).unwrap_or(&self.default)
    }
}

impl From<Tls> for TlsSet {
    fn from(default: Tls) -> TlsSet {
        TlsSet::new(default)
    }
}

/// The TLS files a command line names (`--ca-file`, `--client-cert` and its password).
#[derive(Clone, Copy, Debug, Default)]
pub struct TlsFiles<'a> {
    pub ca_file: Option<&'a std::path::Path>,
    pub client_cert: Option<&'a std::path::Path>,
    pub client_cert_password: Option<&'a Secret>,
}

/// Reads the TLS files named. The client certificate's password is registered for
/// redaction.
pub fn from_files(files: TlsFiles<'_>) -> Result<Tls, String> {
    if let Some(password) = files.client_cert_password {
        secret::register(password.expose());
    }
    let ca_pem = match files.ca_file {
        Some(p) => Some(read_ca(p)?),
        None => None,
    };
    let identity = match files.client_cert {
        Some(p) => Some(Identity::Pkcs12 {
            der: std::fs::read(p)
                .map_err(|e| format!("cannot read client certificate `{}`: {e}", p.display()))?,
            password: files.client_cert_password.cloned().unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Tls { ca_pem, identity })
}

/// The TLS material of a connection whose broker env.php gives, and the notes for the user:
/// `flags` (the command line's), completed by its `ssl_options` when `ssl` is on: `cafile`
/// (CA certificates, PEM), `local_cert` (certificate, PEM, with its key unless `local_pk`
/// names the key file). Relative paths are read from `root`, the Magento install (the
/// working directory of `bin/magento`). `verify_peer => false` is not followed: the
/// broker's certificate is verified all the same, and a note says so.
pub fn from_env_php(
    connection: &AmqpConnection,
    root: &Path,
    flags: &Tls,
) -> Result<(Tls, Vec<String>), String> {
    let mut tls = flags.clone();
    let mut notes = Vec::new();
    if !connection.tls {
        return Ok((tls, notes));
    }
    let name = &connection.name;
    let options = &connection.ssl_options;
    if let Some(passphrase) = &options.passphrase {
        secret::register(passphrase.expose());
    }
    let in_env = |e: String| format!("connection `{name}` in env.php (ssl_options): {e}");
    let file = |value: &Option<String>| -> Option<PathBuf> {
        value
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| root.join(p))
    };
    if tls.ca_pem.is_none()
        && let Some(ca) = file(&options.cafile)
    {
        tls.ca_pem = Some(read_ca(&ca).map_err(in_env)?);
    }
    match (file(&options.local_cert), file(&options.local_pk)) {
        (Some(cert), key) if tls.identity.is_none() => {
            tls.identity = Some(
                read_pem_identity(&cert, key.as_deref(), options.passphrase.is_some())
                    .map_err(in_env)?,
            );
        }
        (None, Some(_)) => notes.push(format!(
            "connection `{name}`: env.php's ssl_options.local_pk is ignored without local_cert"
        )),
        _ => {}
    }
    if !options.verify_peer {
        notes.push(format!(
            "connection `{name}`: env.php sets ssl_options.verify_peer to false; topology \
             verifies the broker's certificate all the same. If it is not signed by a CA this \
             machine trusts, set ssl_options.cafile to the broker's CA certificate, or give \
             --ca-file"
        ));
    }
    if !options.ignored.is_empty() {
        let keys: Vec<String> = options.ignored.iter().map(|k| format!("`{k}`")).collect();
        notes.push(format!(
            "connection `{name}`: env.php's ssl_options {} {} not used by topology",
            keys.join(", "),
            if keys.len() == 1 { "is" } else { "are" }
        ));
    }
    Ok((tls, notes))
}

/// Reads a file of CA certificates (PEM): at least one certificate.
pub fn read_ca(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read CA file `{}`: {e}", path.display()))?;
    let certs = pem_sections(text.as_bytes(), path, "CA file")?
        .into_iter()
        .filter(|(kind, _)| *kind == SectionKind::Certificate)
        .count();
    if certs == 0 {
        return Err(format!(
            "CA file `{}` holds no PEM certificate",
            path.display()
        ));
    }
    Ok(text)
}

/// A PEM client identity as PHP's stream context reads it: the certificate (chain) of
/// `cert`, and the private key of `key`, or of `cert` when there is no key file. Encrypted
/// keys are refused. `passphrase`: env.php gives one (the error says it is not used).
pub fn read_pem_identity(
    cert: &Path,
    key: Option<&Path>,
    passphrase: bool,
) -> Result<Identity, String> {
    let read = |path: &Path, what: &str| {
        std::fs::read(path).map_err(|e| format!("cannot read {what} `{}`: {e}", path.display()))
    };
    let cert_bytes = read(cert, "client certificate")?;
    let (key_path, key_bytes) = match key {
        Some(path) => (path, read(path, "private key")?),
        None => (cert, cert_bytes.clone()),
    };
    if is_encrypted(&key_bytes) {
        return Err(format!(
            "the private key in `{}` is encrypted{}: encrypted PEM keys are not supported; \
             decrypt it (openssl pkey -in KEY -out KEY.plain) and name the decrypted file",
            key_path.display(),
            if passphrase {
                " (ssl_options.passphrase)"
            } else {
                ""
            }
        ));
    }
    let mut certs = String::new();
    for (kind, der) in pem_sections(&cert_bytes, cert, "client certificate")? {
        if kind == SectionKind::Certificate {
            certs.push_str(&pem("CERTIFICATE", &der));
        }
    }
    if certs.is_empty() {
        return Err(format!(
            "client certificate `{}` holds no PEM certificate",
            cert.display()
        ));
    }
    let found = pem_sections(&key_bytes, key_path, "private key")?
        .into_iter()
        .find_map(|(kind, der)| {
            let label = match kind {
                SectionKind::PrivateKey => "PRIVATE KEY",
                SectionKind::RsaPrivateKey => "RSA PRIVATE KEY",
                SectionKind::EcPrivateKey => "EC PRIVATE KEY",
                _ => return None,
            };
            Some(Secret::new(pem(label, &der)))
        });
    match (found, key) {
        (Some(key), _) => Ok(Identity::Pem { certs, key }),
        (None, None) => Err(format!(
            "client certificate `{}` holds no private key; name the key file in \
             ssl_options.local_pk",
            cert.display()
        )),
        (None, Some(path)) => Err(format!(
            "private key file `{}` holds no PEM private key",
            path.display()
        )),
    }
}

/// Every PEM section of a file; an error (naming the file, never showing its content) when
/// it is not PEM.
fn pem_sections(
    bytes: &[u8],
    path: &Path,
    what: &str,
) -> Result<Vec<(SectionKind, Vec<u8>)>, String> {
    <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| format!("{what} `{}` is not valid PEM", path.display()))
}

fn pem(label: &str, der: &[u8]) -> String {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der)
        .expect("a PEM label and DER always encode")
}

/// An encrypted PEM private key: PKCS#8 (`ENCRYPTED PRIVATE KEY`) or OpenSSL's legacy
/// `Proc-Type: 4,ENCRYPTED` header.
fn is_encrypted(pem: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pem);
    text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
}

/// Test PKI and TLS servers: a CA made for the test, a server certificate for localhost and
/// 127.0.0.1, a client identity signed by the CA (PEM and PKCS#12), and `openssl s_server`
/// requiring a client certificate signed by that CA.
#[cfg(test)]
pub(crate) mod testing {
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::{Child, ChildStdin, Command, Stdio};
    use std::time::{Duration, Instant};

    /// The PKCS#12 file's password.
    pub const P12_PASSWORD: &str = "P12/pw@x:%y#?z w";
    /// The encrypted copy of the client key's passphrase.
    pub const KEY_PASSPHRASE: &str = "Key-pass/phrase 42";

    pub fn openssl(dir: &Path, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .env("P12PW", P12_PASSWORD)
            .env("KEYPW", KEY_PASSPHRASE)
            .output()
            .expect("openssl runs (Debian package `openssl`)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// In `dir`: `ca.pem` (and its key), `server.pem` and `server.key`, the client's
    /// `client.pem` (certificate) and `client.key` (PKCS#8 key), `client-combined.pem` (key
    /// and certificate in one file), `client-chain.pem` (certificate then the CA's),
    /// `client-encrypted.key` (the key encrypted with [`KEY_PASSPHRASE`]) and `client.p12`
    /// (with the CA, [`P12_PASSWORD`]).
    pub fn make_certificates(dir: &Path) {
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            dir,
            &[
                &[
                    "req",
                    "-x509",
                    "-days",
                    "3650",
                    "-subj",
                    "/CN=topology test CA",
                ][..],
                &ec,
                &["-keyout", "ca.key", "-out", "ca.pem"],
            ]
            .concat(),
        );
        for (name, ext) in [
            (
                "server",
                "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
            ),
            ("client", "extendedKeyUsage=clientAuth\n"),
        ] {
            std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
            let subject = format!("/CN={name}");
            let (key, csr, pem, extfile) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.pem"),
                format!("{name}.ext"),
            );
            openssl(
                dir,
                &[
                    &["req", "-subj", &subject][..],
                    &ec,
                    &["-keyout", &key, "-out", &csr],
                ]
                .concat(),
            );
            openssl(
                dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-days",
                    "3650",
                    "-extfile",
                    &extfile,
                    "-out",
                    &pem,
                ],
            );
        }
        openssl(
            dir,
            &[
                "pkcs12",
                "-export",
                "-inkey",
                "client.key",
                "-in",
                "client.pem",
                "-certfile",
                "ca.pem",
                "-passout",
                "env:P12PW",
                "-out",
                "client.p12",
            ],
        );
        openssl(
            dir,
            &[
                "pkcs8",
                "-topk8",
                "-in",
                "client.key",
                "-passout",
                "env:KEYPW",
                "-out",
                "client-encrypted.key",
            ],
        );
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        let (cert, key, ca) = (read("client.pem"), read("client.key"), read("ca.pem"));
        std::fs::write(dir.join("client-combined.pem"), format!("{key}{cert}")).unwrap();
        std::fs::write(dir.join("client-chain.pem"), format!("{cert}{ca}")).unwrap();
    }

    /// `openssl s_server` on 127.0.0.1 requiring a client certificate signed by `ca.pem`;
    /// killed when dropped. Its output goes to `s_server.out` and `s_server.err` in its
    /// directory; its input stays open (on end of input it would drop the connection).
    pub struct Server {
        child: Child,
        stdin: ChildStdin,
        dir: PathBuf,
        pub port: u16,
    }

    impl Server {
        /// Stops s_server (`Q` on its input ends a connection and the server; with
        /// `-naccept 1` it ends after one connection anyway), and gives what it wrote on its
        /// output and on its error output.
        pub fn finish(mut self) -> (String, String) {
            let _ = self.stdin.write_all(b"Q\n");
            let _ = self.stdin.flush();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
            let read = |name: &str| {
                String::from_utf8_lossy(&std::fs::read(self.dir.join(name)).unwrap()).into_owned()
            };
            (read("s_server.out"), read("s_server.err"))
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Starts `openssl s_server` in `dir` (made by [`make_certificates`]), with `extra`
    /// arguments (`-www`: answers HTTP with a status page; without: echoes what it reads to
    /// `s_server.out`).
    pub fn serve(dir: &Path, extra: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let file = |name: &str| std::fs::File::create(dir.join(name)).unwrap();
        let mut child = Command::new("openssl")
            .args(["s_server", "-Verify", "1", "-verify_return_error"])
            .args([
                "-CAfile",
                "ca.pem",
                "-cert",
                "server.pem",
                "-key",
                "server.key",
            ])
            .args(["-accept", &format!("127.0.0.1:{port}")])
            .args(extra)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(file("s_server.out"))
            .stderr(file("s_server.err"))
            .spawn()
            .expect("openssl s_server starts");
        let stdin = child.stdin.take().expect("piped");
        let server = Server {
            child,
            stdin,
            dir: dir.to_path_buf(),
            port,
        };
        // Ready when it says so (a probe connection would count against `-naccept`).
        let start = Instant::now();
        while !std::fs::read_to_string(dir.join("s_server.out"))
            .unwrap_or_default()
            .contains("ACCEPT")
        {
            assert!(start.elapsed() < Duration::from_secs(10), "s_server not up");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

#[cfg(test)]
mod tests {

    /// TLS failures in rustls's words become what to do about them; other text is left.
    #[test]
    fn tls_failures_are_explained() {
        for (raw, said) in [
            (
                "received fatal alert: CertificateRequired",
                "the broker requires a client certificate",
            ),
            (
                "received fatal alert: BadCertificate",
                "the broker does not accept the client certificate",
            ),
            (
                "invalid peer certificate: UnknownIssuer",
                "give the CA that signed it with --ca-file",
            ),
            (
                "invalid peer certificate: NotValidForName",
                "not valid for this host name",
            ),
            (
                "received corrupt message of type InvalidContentType",
                "the port does not speak TLS",
            ),
        ] {
            let text = explain(raw).unwrap();
            assert!(text.contains(said) && text.contains(raw), "{text}");
        }
        assert_eq!(explain("Connection refused (os error 111)"), None);
    }
    use super::testing::*;
    use super::*;

    fn certs(identity: &Identity) -> (&str, &str) {
        match identity {
            Identity::Pem { certs, key } => (certs.as_str(), key.expose()),
            Identity::Pkcs12 { .. } => panic!("a PEM identity"),
        }
    }

    #[test]
    fn pem_identity_from_one_file_or_two() {
        let dir = tempfile::tempdir().unwrap();
        make_certificates(dir.path());
        let path = |f: &str| dir.path().join(f);
        let file = |f: &str| std::fs::read_to_string(path(f)).unwrap();

        // Key and certificate in one file (local_cert alone): the certificate is kept
        // apart from the key.
        let combined = read_pem_identity(&path("client-combined.pem"), None, false).unwrap();
        let (chain, key) = certs(&combined);
        assert_eq!(chain, file("client.pem"));
        assert_eq!(key, file("client.key"));
        assert!(!chain.contains("PRIVATE KEY"));

        // Two files (local_cert and local_pk), a chain of two certificates.
        let two =
            read_pem_identity(&path("client-chain.pem"), Some(&path("client.key")), false).unwrap();
        let (chain, key) = certs(&two);
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
        assert_eq!(key, file("client.key"));

        // Debug shows no key material.
        let shown = format!(
            "{:?}",
            Tls {
                ca_pem: Some(file("ca.pem")),
                identity: Some(two)
            }
        );
        assert_eq!(
            shown,
            r#"Tls { ca_pem: Some("…"), identity: Some(Pem(…)) }"#
        );
    }

    #[test]
    fn pem_identity_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        make_certificates(dir.path());
        let path = |f: &str| dir.path().join(f);
        let key_text = std::fs::read_to_string(path("client.key")).unwrap();
        let base64_line = key_text.lines().nth(1).unwrap();
        let no_content = |e: &str| {
            assert!(!e.contains(base64_line), "{e}");
            assert!(!e.contains(KEY_PASSPHRASE), "{e}");
        };

        // The certificate alone: no key anywhere.
        let e = read_pem_identity(&path("client.pem"), None, false).unwrap_err();
        assert!(e.contains("holds no private key"), "{e}");
        assert!(e.contains(&path("client.pem").display().to_string()), "{e}");
        assert!(e.contains("local_pk"), "{e}");

        // A key file that is not there.
        let missing = path("nowhere.key");
        let e = read_pem_identity(&path("client.pem"), Some(&missing), false).unwrap_err();
        assert!(e.starts_with("cannot read private key"), "{e}");
        assert!(e.contains(&missing.display().to_string()), "{e}");

        // A key file without a key (the certificate named twice).
        let e =
            read_pem_identity(&path("client.pem"), Some(&path("client.pem")), false).unwrap_err();
        assert!(e.contains("holds no PEM private key"), "{e}");

        // A certificate file that is not there, or without a certificate.
        let e = read_pem_identity(&path("nowhere.pem"), None, false).unwrap_err();
        assert!(e.starts_with("cannot read client certificate"), "{e}");
        let e = read_pem_identity(&path("client.key"), None, false).unwrap_err();
        assert!(e.contains("holds no PEM certificate"), "{e}");
        no_content(&e);

        // An encrypted key: refused, naming the file, whether env.php gives a passphrase or not.
        for passphrase in [false, true] {
            let e = read_pem_identity(
                &path("client.pem"),
                Some(&path("client-encrypted.key")),
                passphrase,
            )
            .unwrap_err();
            assert!(e.contains("encrypted PEM keys are not supported"), "{e}");
            assert!(
                e.contains(&path("client-encrypted.key").display().to_string()),
                "{e}"
            );
            assert_eq!(e.contains("passphrase"), passphrase, "{e}");
            no_content(&e);
        }

        // Broken PEM: named, not shown.
        let broken = path("broken.pem");
        std::fs::write(
            &broken,
            format!("-----BEGIN PRIVATE KEY-----\n{base64_line}!!\n-----END PRIVATE KEY-----\n"),
        )
        .unwrap();
        let e = read_pem_identity(&path("client.pem"), Some(&broken), false).unwrap_err();
        assert!(e.contains("is not valid PEM"), "{e}");
        no_content(&e);
    }

    #[test]
    fn a_ca_file_holds_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        make_certificates(dir.path());
        let path = |f: &str| dir.path().join(f);
        assert!(
            read_ca(&path("ca.pem"))
                .unwrap()
                .contains("BEGIN CERTIFICATE")
        );
        let e = read_ca(&path("client.key")).unwrap_err();
        assert!(e.contains("holds no PEM certificate"), "{e}");
        let e = read_ca(&path("nowhere.pem")).unwrap_err();
        assert!(e.starts_with("cannot read CA file"), "{e}");
    }

    fn connection(tls: bool, options: &str) -> AmqpConnection {
        let env = format!(
            "<?php return ['queue' => ['amqp' => ['host' => 'h', 'password' => 'Amqp-Pw-55', \
             'ssl' => '{tls}', 'ssl_options' => [{options}]]]];"
        );
        let parsed = crate::source::php::parse_return(&env).unwrap();
        crate::source::magento::brokers(&parsed)
            .connections
            .remove(0)
    }

    #[test]
    fn env_php_ssl_options_unless_the_command_line_gives_them() {
        let dir = tempfile::tempdir().unwrap();
        make_certificates(dir.path());
        let ca = std::fs::read_to_string(dir.path().join("ca.pem")).unwrap();
        let options =
            "'cafile' => 'ca.pem', 'local_cert' => 'client.pem', 'local_pk' => 'client.key'";

        // Relative paths are read from the install's root.
        let (tls, notes) =
            from_env_php(&connection(true, options), dir.path(), &Tls::default()).unwrap();
        assert_eq!(tls.ca_pem.as_deref(), Some(ca.as_str()));
        assert!(matches!(tls.identity, Some(Identity::Pem { .. })));
        assert!(notes.is_empty(), "{notes:?}");

        // What the command line gives wins: env.php's files are not even read.
        let missing = "'cafile' => 'nowhere/ca.pem', 'local_cert' => 'nowhere/client.pem'";
        let flags = Tls {
            ca_pem: Some("flags' CA".into()),
            identity: Some(Identity::Pkcs12 {
                der: vec![1, 2, 3],
                password: Secret::new("p"),
            }),
        };
        let (tls, _) = from_env_php(&connection(true, missing), dir.path(), &flags).unwrap();
        assert_eq!(tls.ca_pem.as_deref(), Some("flags' CA"));
        assert!(matches!(tls.identity, Some(Identity::Pkcs12 { .. })));
        // Only the CA from the command line: the identity still comes from env.php.
        let ca_only = Tls {
            ca_pem: Some("flags' CA".into()),
            identity: None,
        };
        let (tls, _) = from_env_php(&connection(true, options), dir.path(), &ca_only).unwrap();
        assert_eq!(tls.ca_pem.as_deref(), Some("flags' CA"));
        assert!(matches!(tls.identity, Some(Identity::Pem { .. })));
        let e = from_env_php(&connection(true, missing), dir.path(), &ca_only).unwrap_err();
        assert!(
            e.starts_with(
                "connection `amqp` in env.php (ssl_options): cannot read client certificate"
            ),
            "{e}"
        );

        // Without `ssl`, ssl_options mean nothing (Magento does not read them either).
        let (tls, notes) =
            from_env_php(&connection(false, missing), dir.path(), &Tls::default()).unwrap();
        assert!(tls.ca_pem.is_none() && tls.identity.is_none() && notes.is_empty());

        // verify_peer false and unused keys: notes, without values.
        let (_, notes) = from_env_php(
            &connection(
                true,
                "'verify_peer' => false, 'passphrase' => 'Phrase-Value-1', 'local_pk' => 'k.pem'",
            ),
            dir.path(),
            &Tls::default(),
        )
        .unwrap();
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(
            notes[0].contains("local_pk is ignored without local_cert"),
            "{notes:?}"
        );
        assert!(notes[1].contains("verify_peer to false"), "{notes:?}");
        assert!(notes[2].contains("`passphrase` is not used"), "{notes:?}");
        let shown = format!("{notes:?}");
        assert!(!shown.contains("Phrase-Value-1") && !shown.contains("Amqp-Pw-55"));
    }

    #[test]
    fn each_connection_gets_its_own_or_the_default() {
        let mut set = TlsSet::new(Tls::default());
        set.insert(
            "events",
            Tls {
                ca_pem: Some("ca".into()),
                identity: None,
            },
        );
        assert!(set.for_connection("events").ca_pem.is_some());
        assert!(set.for_connection("amqp").ca_pem.is_none());
        assert!(set.default_tls().ca_pem.is_none());
    }
}
