//! Per-address throttling of the OAuth endpoints that guess secrets: login form posts
//! (passwords) and the token, revocation and introspection endpoints (client secrets, codes,
//! refresh tokens). A GCRA limiter (governor) per client address, each allowing a burst of N
//! and N per minute (CHARTD_LOGIN_THROTTLE_PER_MINUTE, CHARTD_TOKEN_THROTTLE_PER_MINUTE).
//!
//! These counters are per process, unlike the rest of chartd's state: with P processes
//! behind a load balancer an address gets at most P times the limit, which still bounds a
//! brute-force attempt, and the check costs no database round trip. (The per-application
//! hourly limit of CONTRACT.md is global and lives in the database.)
//!
//! IPv6 addresses are throttled by /64, the block one subscriber usually holds.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::settings::Settings;

type Limiter = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>;

/// Above this many remembered addresses, addresses whose bucket is full again are dropped.
const MAX_KEYS: usize = 10_000;

/// What a request spends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    /// A login form post.
    Login,
    /// A request to /o/token, /o/revoke_token or /o/introspect.
    Token,
}

pub struct Throttle {
    login: Option<Limiter>,
    token: Option<Limiter>,
    trust_forwarded_for: bool,
}

fn limiter(per_minute: u32) -> Option<Limiter> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl Throttle {
    pub fn new(settings: &Settings) -> Throttle {
        Throttle {
            login: limiter(settings.login_throttle_per_minute),
            token: limiter(settings.token_throttle_per_minute),
            trust_forwarded_for: settings.trust_forwarded_for,
        }
    }

    /// The client's address: the peer, or behind a trusted load balancer the last
    /// X-Forwarded-For entry (the one the balancer appended; earlier ones are the client's
    /// word).
    pub fn client_addr(&self, req: &HttpRequest) -> Option<IpAddr> {
        if self.trust_forwarded_for {
            let forwarded = req
                .headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .last();
            if forwarded.is_some() {
                return forwarded;
            }
        }
        req.peer_addr().map(|a| a.ip())
    }

    /// Spends one request of the caller's address; Err(seconds to wait) when none is left.
    pub fn check(&self, bucket: Bucket, req: &HttpRequest) -> Result<(), u64> {
        let limiter = match bucket {
            Bucket::Login => &self.login,
            Bucket::Token => &self.token,
        };
        let (Some(limiter), Some(addr)) = (limiter, self.client_addr(req)) else {
            return Ok(());
        };
        let key = match addr {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
            v4 => v4,
        };
        if limiter.len() > MAX_KEYS {
            limiter.retain_recent();
        }
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Round up: a client retrying after Retry-After seconds must get through.
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }
}
