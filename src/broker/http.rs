//! The management API's HTTP client, with the TLS settings AMQP gets: the CA certificates of
//! `--ca-file` (added to the platform's roots, as for `amqps://`) and the client identity of
//! `--client-cert` (PKCS#12, read with the same parser as lapin's). reqwest with rustls:
//! the TLS stack `rabbitmq_http_client` already compiles in.

use std::time::Duration;

use reqwest::{Certificate, Client, Identity};

use super::Endpoint;
use super::amqp::Tls;
use crate::secret::Secret;

/// The HTTP client for `endpoint`'s management API: connecting bounded by `timeout`, each
/// request by three times that. The TLS settings apply to an `https://` management URL.
pub fn client(endpoint: &Endpoint, tls: &Tls, timeout: Duration) -> Result<Client, String> {
    let mut builder = Client::builder()
        .connect_timeout(timeout)
        .timeout(timeout * 3);
    if endpoint.management.starts_with("https://") {
        if let Some(pem) = &tls.ca_pem {
            let certs = Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| format!("the CA file is not PEM certificates: {e}"))?;
            if certs.is_empty() {
                return Err("the CA file holds no PEM certificate".to_string());
            }
            builder = builder.tls_certs_merge(certs);
        }
        if let Some((der, password)) = &tls.client_p12 {
            builder = builder.identity(identity(der, password)?);
        }
    }
    builder.build().map_err(|e| {
        format!(
            "connection `{}`: cannot set up the management API client: {e}",
            endpoint.name
        )
    })
}

/// A PKCS#12 identity as reqwest's rustls backend takes it: its key (PKCS#8) and
/// certificate chain in PEM.
fn identity(der: &[u8], password: &Secret) -> Result<Identity, String> {
    let store = p12_keystore::KeyStore::from_pkcs12(der, password.expose()).map_err(|_| {
        "the client certificate cannot be read: not PKCS#12, or a wrong password".to_string()
    })?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or("the client certificate (PKCS#12) holds no private key")?;
    let pem = |label: &str, der: &[u8]| {
        pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der)
            .map_err(|e| format!("the client certificate cannot be converted to PEM: {e}"))
    };
    let mut text = pem("PRIVATE KEY", chain.key())?;
    for cert in chain.chain() {
        text.push_str(&pem("CERTIFICATE", cert.as_der())?);
    }
    Identity::from_pem(text.as_bytes())
        .map_err(|e| format!("the client certificate is not usable: {e}"))
}

#[cfg(test)]
mod tests {
    //! Against `openssl s_server` on 127.0.0.1, which requires a client certificate signed by
    //! a CA made for the test: the client reaches it only with both the CA and the identity.

    use std::path::Path;
    use std::process::{Child, Command, Stdio};

    use super::*;

    const P12_PASSWORD: &str = "P12/pw@x:%y#?z w";

    fn openssl(dir: &Path, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .env("P12PW", P12_PASSWORD)
            .output()
            .expect("openssl runs (Debian package `openssl`)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A CA, a server certificate for localhost and a client identity (PKCS#12).
    fn make_certificates(dir: &Path) {
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
    }

    /// `openssl s_server -www`, killed when dropped.
    struct Server(Child);

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn serve(dir: &Path) -> (Server, u16) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("openssl")
            .args(["s_server", "-www", "-Verify", "1", "-verify_return_error"])
            .args([
                "-CAfile",
                "ca.pem",
                "-cert",
                "server.pem",
                "-key",
                "server.key",
            ])
            .args(["-accept", &format!("127.0.0.1:{port}")])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server starts");
        let server = Server(child);
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(10), "s_server not up");
            std::thread::sleep(Duration::from_millis(50));
        }
        (server, port)
    }

    #[test]
    fn management_client_gets_the_ca_and_the_client_identity() {
        let dir = tempfile::tempdir().unwrap();
        make_certificates(dir.path());
        let (_server, port) = serve(dir.path());
        let ca_pem = std::fs::read_to_string(dir.path().join("ca.pem")).unwrap();
        let p12 = std::fs::read(dir.path().join("client.p12")).unwrap();
        let endpoint = Endpoint::parse(
            "amqp",
            "amqps://u:p@localhost:5671/v",
            Some(&format!("https://localhost:{port}")),
        )
        .unwrap();
        assert_eq!(endpoint.management, format!("https://localhost:{port}/api"));
        let both = Tls {
            ca_pem: Some(ca_pem.clone()),
            client_p12: Some((p12.clone(), Secret::new(P12_PASSWORD))),
        };
        let ca_only = Tls {
            ca_pem: Some(ca_pem.clone()),
            client_p12: None,
        };
        let identity_only = Tls {
            ca_pem: None,
            client_p12: Some((p12.clone(), Secret::new(P12_PASSWORD))),
        };
        let timeout = Duration::from_secs(5);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let get = |tls: &Tls| {
            let client = client(&endpoint, tls, timeout).unwrap();
            rt.block_on(async {
                let r = client
                    .get(format!("https://localhost:{port}/"))
                    .send()
                    .await?;
                r.error_for_status()?.text().await
            })
        };
        let page = get(&both).expect("CA and client identity: the server answers");
        assert!(page.contains("client"), "{page}");
        assert!(get(&ca_only).is_err(), "no client certificate: refused");
        assert!(
            get(&identity_only).is_err(),
            "CA unknown: the server is not trusted"
        );

        let wrong = Tls {
            ca_pem: Some(ca_pem),
            client_p12: Some((p12, Secret::new("not the password"))),
        };
        let e = client(&endpoint, &wrong, timeout).unwrap_err();
        assert!(e.contains("wrong password"), "{e}");
        assert!(!e.contains("not the password"), "{e}");
        let garbage = Tls {
            ca_pem: Some("not a certificate".into()),
            client_p12: None,
        };
        assert!(client(&endpoint, &garbage, timeout).is_err());
        // Plain http: the TLS settings do not apply.
        let plain = Endpoint::parse("amqp", "amqp://u:p@localhost/v", None).unwrap();
        assert!(client(&plain, &garbage, timeout).is_ok());
    }
}
