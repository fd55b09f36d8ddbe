//! The one HTTPS connector for what shipshape fetches from the network
//! (vulnerability data, registries): the system's root certificates,
//! rustls on the ring provider bollard already builds, HTTP/1 only; plain
//! `http://` is left to each caller's own rule (loopback only).

use std::sync::Arc;

/// HTTPS, or plain HTTP where the caller allows it.
pub type Connector =
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// The connector, and how many system root certificates it trusts (none
/// is an error for a caller that only speaks HTTPS, not for one that may
/// speak plain HTTP to loopback).
pub fn connector() -> Result<(Connector, usize), String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let trusted = roots.len();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .build();
    Ok((https, trusted))
}
