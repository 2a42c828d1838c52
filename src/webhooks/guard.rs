//! Where chartd may send webhooks. A callback URL is an absolute http(s) URL without
//! credentials or fragment. Unless CHARTD_WEBHOOK_ALLOW_PRIVATE is set, it must not lead to
//! a loopback, private, shared (CGNAT), link-local (cloud metadata at 169.254.169.254),
//! multicast or otherwise reserved address: checked when the URL is registered, and again on
//! every call on the very addresses connected to — the HTTP client resolves names only
//! through [`GuardedResolver`], which drops refused addresses, so a name that later
//! resolves elsewhere (DNS rebinding) gets nowhere; IP-literal hosts, which skip the
//! resolver, are checked by [`check_literal`] before each call.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use url::{Host, Url};

/// The longest accepted callback URL.
pub const MAX_URL: usize = 2048;

/// Whether chartd may call this address when private addresses are not allowed.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                // IPv4-compatible (::/96, deprecated) and discard-only (100::/64).
                || s[0..6] == [0, 0, 0, 0, 0, 0]
                || (s[0] == 0x100 && s[1..4] == [0, 0, 0])
                // Unique local (fc00::/7, e.g. fd00:ec2::254 metadata), link-local
                // (fe80::/10), site-local (fec0::/10).
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                // Documentation (2001:db8::/32).
                || (s[0] == 0x2001 && s[1] == 0xdb8))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT; some metadata)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224) // multicast, reserved, broadcast
}

/// Parses a callback URL; Err is the message for the `callback_url` key.
pub fn parse_callback(s: &str) -> Result<Url, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("This field may not be blank.".into());
    }
    if s.len() > MAX_URL {
        return Err(format!(
            "Ensure this field has no more than {MAX_URL} characters."
        ));
    }
    let url = Url::parse(s).map_err(|_| "Enter a valid URL.".to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("Only http and https URLs are accepted.".into());
    }
    if url.host().is_none() {
        return Err("Enter a valid URL.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("The URL must not carry a user name or password.".into());
    }
    if url.fragment().is_some() {
        return Err("The URL must not have a fragment.".into());
    }
    Ok(url)
}

/// The receiver a URL names (host and port), for the per-receiver concurrency cap.
pub fn receiver(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

const REFUSED: &str = "resolves to a loopback, private, link-local or reserved address, \
                       which chartd does not call (CHARTD_WEBHOOK_ALLOW_PRIVATE)";

/// For an IP-literal host (which the resolver never sees): Err when it is refused.
pub fn check_literal(url: &Url, allow_private: bool) -> Result<(), String> {
    let ip = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    if allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(format!("{ip} {REFUSED}"))
    }
}

/// When a URL is registered: it must resolve, and (unless allowed) to public addresses only.
pub async fn check_url(url: &Url, allow_private: bool) -> Result<(), String> {
    check_literal(url, allow_private)?;
    let Some(Host::Domain(host)) = url.host() else {
        return Ok(());
    };
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map(Iterator::collect)
        .unwrap_or_default();
    check_addrs(host, addrs, allow_private)
}

/// [`check_url`] for code outside the async runtime (the command line).
pub fn check_url_blocking(url: &Url, allow_private: bool) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    check_literal(url, allow_private)?;
    let Some(Host::Domain(host)) = url.host() else {
        return Ok(());
    };
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs = (host, port)
        .to_socket_addrs()
        .map(Iterator::collect)
        .unwrap_or_default();
    check_addrs(host, addrs, allow_private)
}

fn check_addrs(host: &str, addrs: Vec<SocketAddr>, allow_private: bool) -> Result<(), String> {
    if addrs.is_empty() {
        return Err(format!("The host {host} could not be resolved."));
    }
    if !allow_private {
        if let Some(a) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(format!("{host} ({}) {REFUSED}.", a.ip()));
        }
    }
    Ok(())
}

/// The HTTP client's resolver: the system's, keeping only the addresses chartd may call.
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                let e = std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{host} {REFUSED}"),
                );
                return Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_reserved_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} should be refused");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} should be allowed");
        }
    }

    #[test]
    fn callback_urls_are_http_without_credentials() {
        assert!(parse_callback("https://example.com/hook?x=1").is_ok());
        assert!(parse_callback("ftp://example.com/").is_err());
        assert!(parse_callback("https://user:pw@example.com/").is_err());
        assert!(parse_callback("https://example.com/#frag").is_err());
        assert!(parse_callback("not a url").is_err());
        assert!(check_literal(&Url::parse("http://127.0.0.1:9/").unwrap(), false).is_err());
        assert!(check_literal(&Url::parse("http://[::1]:9/").unwrap(), false).is_err());
        assert!(check_literal(&Url::parse("http://127.0.0.1:9/").unwrap(), true).is_ok());
        assert!(check_literal(&Url::parse("http://8.8.8.8/").unwrap(), false).is_ok());
        assert_eq!(
            receiver(&Url::parse("https://Example.com/x").unwrap()),
            "example.com:443"
        );
    }
}
