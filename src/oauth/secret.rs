//! Client secrets are derived, not stored: `client_secret = base64url(HMAC-SHA256(server_key,
//! "client-secret:" + client_id))` (URL-safe alphabet, no padding). The database keeps only
//! the secret's SHA-256, which is all that authenticating a client needs; signing an iframe
//! launch (HS256 with the client secret, as DrChrono does) recomputes the secret from the
//! server key. Every process serving one database must therefore share CHARTD_SECRET_KEY.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::api::auth::hash_token;

/// The server's secret key (CHARTD_SECRET_KEY or its file).
#[derive(Clone)]
pub struct ServerKey(Vec<u8>);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(..)")
    }
}

impl ServerKey {
    pub fn new(key: &str) -> ServerKey {
        ServerKey(key.as_bytes().to_vec())
    }

    /// The client secret of an app.
    pub fn client_secret(&self, client_id: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"client-secret:");
        mac.update(client_id.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The client secret of an app, if it still matches the stored hash (it does not when the
    /// app was registered under another server key).
    pub fn stored_client_secret(&self, client_id: &str, stored_hash: &str) -> Option<String> {
        let secret = self.client_secret(client_id);
        hashes_equal(&hash_token(&secret), stored_hash).then_some(secret)
    }
}

/// Compares two stored hashes in constant time.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_depend_on_key_and_client() {
        let k = ServerKey::new("0123456789abcdef0123456789abcdef");
        let s = k.client_secret("abc");
        assert_eq!(s.len(), 43);
        assert_eq!(s, k.client_secret("abc"));
        assert_ne!(s, k.client_secret("abd"));
        assert_ne!(
            s,
            ServerKey::new("0123456789abcdef0123456789abcdeX").client_secret("abc")
        );
        assert!(k.stored_client_secret("abc", &hash_token(&s)).is_some());
        assert!(k
            .stored_client_secret("abc", &hash_token("other"))
            .is_none());
    }
}
