//! The management API's HTTP client, with the TLS settings AMQP gets: the connection's CA
//! certificates (added to the platform's roots, as for `amqps://`) and its client identity
//! (PKCS#12 of `--client-cert`, read with the same parser as lapin's, or PEM of env.php's
//! `ssl_options`). reqwest with rustls and ring, the TLS stack of AMQP.

use std::time::Duration;

use reqwest::{Certificate, Client, Identity};

use super::Endpoint;
use super::tls::{Identity as ClientIdentity, Tls};
use crate::secret::Secret;

/// The HTTP client for `endpoint`'s management API: connecting, and every wait for the
/// server to send something, bounded by `timeout` (a server that accepts and never answers
/// is an error after `timeout`); a whole request (a large listing) by three times that. The
/// TLS settings apply to an `https://` management URL; with only `http://` ones, no
/// certificate is loaded (the platform's roots are a few hundred files) and a redirect is
/// not followed (the management API does not redirect: what a proxy answers instead is
/// reported as it is, not followed to an `https://` URL that these settings cannot trust).
pub fn client(endpoint: &Endpoint, tls: &Tls, timeout: Duration) -> Result<Client, String> {
    super::tls::use_ring();
    let mut builder = Client::builder()
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .timeout(timeout * 3);
    if !endpoint
        .management
        .iter()
        .any(|m| m.starts_with("https://"))
    {
        builder = builder
            .tls_certs_only([])
            .redirect(reqwest::redirect::Policy::none());
    } else {
        if let Some(pem) = &tls.ca_pem {
            let certs = Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| format!("the CA file is not PEM certificates: {e}"))?;
            if certs.is_empty() {
                return Err("the CA file holds no PEM certificate".to_string());
            }
            builder = builder.tls_certs_merge(certs);
        }
        match &tls.identity {
            Some(ClientIdentity::Pkcs12 { der, password }) => {
                builder = builder.identity(pkcs12_identity(der, password)?);
            }
            Some(ClientIdentity::Pem { certs, key }) => {
                let pem = format!("{}{certs}", key.expose());
                builder = builder.identity(
                    Identity::from_pem(pem.as_bytes())
                        .map_err(|e| format!("the client certificate (PEM) is not usable: {e}"))?,
                );
            }
            None => {}
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
fn pkcs12_identity(der: &[u8], password: &Secret) -> Result<Identity, String> {
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
    //! a CA made for the test: the client reaches it only with both the CA and the identity,
    //! PKCS#12 or PEM.

    use super::super::tls::read_pem_identity;
    use super::super::tls::testing::{P12_PASSWORD, make_certificates, serve};
    use super::*;

    #[test]
    fn management_client_gets_the_ca_and_the_client_identity() {
        let dir = tempfile::tempdir().unwrap();
        make_certificates(dir.path());
        let server = serve(dir.path(), &["-www"]);
        let port = server.port;
        let ca_pem = std::fs::read_to_string(dir.path().join("ca.pem")).unwrap();
        let p12 = ClientIdentity::Pkcs12 {
            der: std::fs::read(dir.path().join("client.p12")).unwrap(),
            password: Secret::new(P12_PASSWORD),
        };
        let pem = read_pem_identity(&dir.path().join("client-combined.pem"), None, false).unwrap();
        let endpoint = Endpoint::parse(
            "amqp",
            "amqps://u:p@localhost:5671/v",
            Some(&format!("https://localhost:{port}")),
        )
        .unwrap();
        assert_eq!(
            endpoint.management,
            [format!("https://localhost:{port}/api")]
        );
        let tls = |ca: bool, identity: Option<&ClientIdentity>| Tls {
            ca_pem: ca.then(|| ca_pem.clone()),
            identity: identity.cloned(),
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
        for identity in [&p12, &pem] {
            let page = get(&tls(true, Some(identity)))
                .unwrap_or_else(|e| panic!("CA and {identity:?}: the server answers: {e}"));
            assert!(page.contains("client"), "{page}");
            assert!(
                get(&tls(false, Some(identity))).is_err(),
                "{identity:?}, CA unknown: the server is not trusted"
            );
        }
        assert!(
            get(&tls(true, None)).is_err(),
            "no client certificate: refused"
        );

        let wrong = Tls {
            ca_pem: Some(ca_pem),
            identity: Some(ClientIdentity::Pkcs12 {
                der: std::fs::read(dir.path().join("client.p12")).unwrap(),
                password: Secret::new("not the password"),
            }),
        };
        let e = client(&endpoint, &wrong, timeout).unwrap_err();
        assert!(e.contains("wrong password"), "{e}");
        assert!(!e.contains("not the password"), "{e}");
        let garbage = Tls {
            ca_pem: Some("not a certificate".into()),
            identity: None,
        };
        assert!(client(&endpoint, &garbage, timeout).is_err());
        // Plain http: the TLS settings do not apply.
        let plain = Endpoint::parse("amqp", "amqp://u:p@localhost/v", None).unwrap();
        assert!(client(&plain, &garbage, timeout).is_ok());
    }
}
