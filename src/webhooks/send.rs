//! The calls chartd makes to receivers: a delivery (POST, signed twice: DrChrono's
//! X-drchrono-signature and the Standard Webhooks headers) and the verification handshake
//! (GET callback_url?msg=...). Redirects are never followed, no proxy is used, and an answer
//! is never read past [`MAX_ANSWER`] bytes.

use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use url::Url;

use super::guard::{self, GuardedResolver};
use super::Config;

/// The most of an answer chartd reads (the rest is dropped with the connection).
pub const MAX_ANSWER: usize = 64 * 1024;

pub fn client(config: &Config) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .pool_max_idle_per_host(config.per_receiver)
        .pool_idle_timeout(Duration::from_secs(30))
        .dns_resolver(std::sync::Arc::new(GuardedResolver {
            allow_private: config.allow_private,
        }))
        .user_agent(concat!("chartd-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length")
}

/// X-drchrono-signature: hex HMAC-SHA256 of the raw body, keyed with the secret token.
pub fn drchrono_signature(secret: &str, body: &[u8]) -> String {
    let mut m = mac(secret.as_bytes());
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// webhook-signature (Standard Webhooks v1): base64 HMAC-SHA256 over "{id}.{timestamp}.{body}"
/// keyed with the secret token's UTF-8 bytes (a receiver's secret is
/// `whsec_` + base64(secret_token)).
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    signature_v1(secret.as_bytes(), id, timestamp, body)
}

fn signature_v1(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut m = mac(key);
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
    )
}

/// The webhook-id of a delivery: the same on every attempt, so receivers can dedupe.
pub fn message_id(delivery: i64) -> String {
    format!("msg_chartd_{delivery}")
}

/// What one call came to.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub status_code: Option<u16>,
    /// None when the call succeeded.
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// A call not made.
    pub fn refused(error: impl Into<String>) -> Outcome {
        Outcome {
            error: Some(error.into()),
            ..Outcome::default()
        }
    }
}

/// An error and its causes on one line ("error sending request: ...: connection refused").
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("Timed out after {} ms.", timeout.as_millis());
    }
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Reads at most [`MAX_ANSWER`] bytes of an answer; answers them and whether there was more.
async fn read_capped(mut res: reqwest::Response) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut buf = Vec::new();
    while let Some(chunk) = res.chunk().await? {
        if buf.len() + chunk.len() > MAX_ANSWER {
            return Ok((buf, true));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((buf, false))
}

/// One delivery attempt.
pub struct Delivery<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    pub event: &'a str,
    pub delivery: i64,
    pub body: &'a [u8],
    /// Unix time of the attempt (webhook-timestamp).
    pub timestamp: i64,
}

/// POSTs a delivery; any 2xx is success, anything else (a redirect included) a failure.
pub async fn deliver(client: &reqwest::Client, config: &Config, d: Delivery<'_>) -> Outcome {
    let started = Instant::now();
    let mut outcome = match Url::parse(d.url)
        .map_err(|e| e.to_string())
        .and_then(|u| guard::check_literal(&u, config.allow_private).map(|()| u))
    {
        Err(e) => Outcome::refused(e),
        Ok(url) => {
            let id = message_id(d.delivery);
            let res = client
                .post(url)
                .header("Content-Type", "application/json")
                .header("X-drchrono-event", d.event)
                .header("X-drchrono-delivery", d.delivery.to_string())
                .header("X-drchrono-signature", drchrono_signature(d.secret, d.body))
                .header("webhook-id", id.as_str())
                .header("webhook-timestamp", d.timestamp.to_string())
                .header(
                    "webhook-signature",
                    standard_signature(d.secret, &id, d.timestamp, d.body),
                )
                .body(d.body.to_vec())
                .send()
                .await;
            match res {
                Err(e) => Outcome::refused(describe(&e, config.timeout)),
                Ok(res) => {
                    let status = res.status();
                    // The answer is read (up to the cap) so that the connection can be reused;
                    // its contents do not matter, and a 2xx counts even if its body breaks off.
                    let _ = read_capped(res).await;
                    let error = if status.is_redirection() {
                        Some(format!(
                            "Answered {}; redirects are not followed.",
                            status.as_u16()
                        ))
                    } else if !status.is_success() {
                        Some(format!("Answered {}.", status.as_u16()))
                    } else {
                        None
                    };
                    Outcome {
                        status_code: Some(status.as_u16()),
                        error,
                        duration_ms: 0,
                    }
                }
            }
        }
    };
    outcome.duration_ms = started.elapsed().as_millis() as i64;
    outcome
}

/// The answer a receiver must give to the handshake: hex HMAC-SHA256 of msg, keyed with
/// the secret token.
pub fn handshake_answer(secret: &str, msg: &str) -> String {
    drchrono_signature(secret, msg.as_bytes())
}

/// The verification handshake: GET callback_url?msg=RANDOM, expecting 200 JSON
/// `{"secret_token": hex(HMAC-SHA256(secret_token, msg))}`. Ok when it matched.
pub async fn handshake(
    client: &reqwest::Client,
    config: &Config,
    callback_url: &str,
    secret: &str,
) -> Outcome {
    let started = Instant::now();
    let mut outcome = handshake_call(client, config, callback_url, secret).await;
    outcome.duration_ms = started.elapsed().as_millis() as i64;
    outcome
}

async fn handshake_call(
    client: &reqwest::Client,
    config: &Config,
    callback_url: &str,
    secret: &str,
) -> Outcome {
    let mut url = match Url::parse(callback_url) {
        Ok(u) => u,
        Err(e) => return Outcome::refused(e.to_string()),
    };
    if let Err(e) = guard::check_literal(&url, config.allow_private) {
        return Outcome::refused(e);
    }
    let msg = {
        use rand::RngCore;
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    };
    url.query_pairs_mut().append_pair("msg", &msg);
    let res = match client.get(url).send().await {
        Ok(r) => r,
        Err(e) => return Outcome::refused(describe(&e, config.timeout)),
    };
    let status = res.status().as_u16();
    let fail = |error: String| Outcome {
        status_code: Some(status),
        error: Some(error),
        duration_ms: 0,
    };
    if status != 200 {
        return fail(if (300..400).contains(&status) {
            format!("Answered {status}, not 200; redirects are not followed.")
        } else {
            format!("Answered {status}, not 200.")
        });
    }
    let body = match read_capped(res).await {
        Ok((_, true)) => return fail(format!("The answer is larger than {MAX_ANSWER} bytes.")),
        Ok((body, false)) => body,
        Err(e) => return fail(describe(&e, config.timeout)),
    };
    let given = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("secret_token")?.as_str().map(str::to_string));
    let Some(given) = given else {
        return fail("The answer is not a JSON object with a \"secret_token\" string.".into());
    };
    let expected = handshake_answer(secret, &msg);
    if given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        Outcome {
            status_code: Some(status),
            error: None,
            duration_ms: 0,
        }
    } else {
        fail(
            "secret_token is not the HMAC-SHA256 (hex) of msg keyed with the webhook's secret \
             token."
                .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_contract() {
        // Standard Webhooks reference vector: secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
        // is base64 of the key bytes; here the key is the secret token's bytes.
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        assert_eq!(
            signature_v1(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                b"{\"test\": 2432232314}"
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let s = standard_signature("secret", "msg_1", 1614265330, b"{}");
        assert!(s.starts_with("v1,"));
        assert_eq!(drchrono_signature("k", b"").len(), 64);
    }
}
