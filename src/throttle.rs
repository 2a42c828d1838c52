//! Failure throttling of the OAuth endpoints that guess secrets (OWASP's authentication
//! guidance, django-axes): only failures count, never successes.
//!
//! - Sign-in (`POST /o/login`): wrong passwords for one account from one address
//!   (CHARTD_LOGIN_FAILURES_PER_ACCOUNT, default 10) and wrong passwords from one address
//!   whatever the account (CHARTD_LOGIN_FAILURES_PER_ADDRESS, default 50: a password spray).
//!   A successful sign-in clears its account's count at that address. Fifteen staff behind
//!   one clinic address who sign in are never refused; a guesser is, and the right user at
//!   another address is not locked out by a guesser's failures.
//! - Token, revocation and introspection: failed client authentication and invalid grants
//!   (codes, refresh tokens) of one client from one address
//!   (CHARTD_TOKEN_FAILURES_PER_CLIENT, default 20) and from one address whatever the client
//!   (CHARTD_TOKEN_FAILURES_PER_ADDRESS, default 60). Valid requests are not counted: an
//!   integrator refreshing the tokens of many practices from one server is never refused
//!   (its traffic is bounded by the hourly per-app limit).
//!
//! A key is refused while its failures in the current and the previous 15-minute window
//! reach its limit (so a window boundary grants no fresh burst), answering 429 with the
//! seconds until the current window ends. The counts live in the database (table
//! auth_failures), shared by every process serving it: a check is one primary-key read, a
//! failure one upsert.
//!
//! IPv6 addresses are counted by /64, the block one subscriber usually holds.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use actix_web::HttpRequest;

use crate::db::{Conn, Sql, Ty, Val};
use crate::ratelimit::Clock;
use crate::settings::Settings;

/// The length of a counting window, in seconds.
pub const WINDOW_SECS: i64 = 900;

/// The keys one attempt is counted under, each with its limit (0: not counted). The first
/// is the one a success clears.
#[derive(Clone, Debug, Default)]
pub struct Subject {
    keys: Vec<(String, u32)>,
}

pub struct Throttle {
    login_per_account: u32,
    login_per_address: u32,
    token_per_client: u32,
    token_per_address: u32,
    trust_forwarded_for: bool,
    pub clock: Arc<Clock>,
}

impl Throttle {
    pub fn new(settings: &Settings, clock: Arc<Clock>) -> Throttle {
        Throttle {
            login_per_account: settings.login_failures_per_account,
            login_per_address: settings.login_failures_per_address,
            token_per_client: settings.token_failures_per_client,
            token_per_address: settings.token_failures_per_address,
            trust_forwarded_for: settings.trust_forwarded_for,
            clock,
        }
    }

    /// The client's address: the peer, or behind a trusted load balancer the last
    /// X-Forwarded-For entry (the one the balancer appended; earlier ones are the client's
    /// word). IPv6 by /64.
    pub fn client_addr(&self, req: &HttpRequest) -> Option<IpAddr> {
        let mut addr = req.peer_addr().map(|a| a.ip());
        if self.trust_forwarded_for {
            let forwarded = req
                .headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .last();
            addr = forwarded.or(addr);
        }
        addr.map(|a| match a {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
            v4 => v4,
        })
    }

    fn subject(&self, req: &HttpRequest, kind: &str, who: &str, limits: (u32, u32)) -> Subject {
        let addr = self
            .client_addr(req)
            .map(|a| a.to_string())
            .unwrap_or_default();
        Subject {
            keys: vec![
                (format!("{kind}:{addr}:{who}"), limits.0),
                (format!("{kind}:{addr}"), limits.1),
            ],
        }
    }

    /// A sign-in as `username` (case-insensitive) from the caller's address.
    pub fn login(&self, req: &HttpRequest, username: &str) -> Subject {
        let who = username.trim().to_lowercase();
        self.subject(
            req,
            "login",
            &who,
            (self.login_per_account, self.login_per_address),
        )
    }

    /// A request of client `client_id` (as presented) from the caller's address.
    pub fn token(&self, req: &HttpRequest, client_id: &str) -> Subject {
        self.subject(
            req,
            "token",
            client_id,
            (self.token_per_client, self.token_per_address),
        )
    }

    fn window(&self) -> (i64, i64) {
        let now = self.clock.now().timestamp();
        (now.div_euclid(WINDOW_SECS), now)
    }

    /// Err(seconds to wait) while any of the subject's keys has reached its limit.
    pub fn check(&self, conn: &mut Conn, s: &Subject) -> diesel::QueryResult<Result<(), u64>> {
        let (win, now) = self.window();
        for (key, limit) in s.keys.iter().filter(|(_, l)| *l > 0) {
            let failures = Sql::new(
                "SELECT CAST(COALESCE(SUM(failures), 0) AS BIGINT) FROM auth_failures \
                 WHERE key = ? AND win >= ?",
            )
            .bind(key.as_str())
            .bind(win - 1)
            .load_one(conn, &[Ty::Int])?
            .and_then(|r| r[0].as_i64())
            .unwrap_or(0);
            if failures >= i64::from(*limit) {
                // Round up: a client retrying after Retry-After seconds must get through.
                return Ok(Err(((win + 1) * WINDOW_SECS - now).max(1) as u64));
            }
        }
        Ok(Ok(()))
    }

    /// Counts one failure under each of the subject's keys, and forgets windows that no
    /// longer count.
    pub fn failed(&self, conn: &mut Conn, s: &Subject) -> diesel::QueryResult<()> {
        let (win, _) = self.window();
        for (key, _) in s.keys.iter().filter(|(_, l)| *l > 0) {
            Sql::new(
                "INSERT INTO auth_failures (key, win, failures) VALUES (?, ?, 1) \
                 ON CONFLICT (key, win) DO UPDATE SET failures = auth_failures.failures + 1",
            )
            .bind(key.as_str())
            .bind(win)
            .execute(conn)?;
        }
        Sql::new("DELETE FROM auth_failures WHERE win < ?")
            .bind(Val::from(win - 1))
            .execute(conn)?;
        Ok(())
    }

    /// A success clears the count of its first key (the account or client at this address).
    pub fn succeeded(&self, conn: &mut Conn, s: &Subject) -> diesel::QueryResult<()> {
        if let Some((key, _)) = s.keys.first() {
            Sql::new("DELETE FROM auth_failures WHERE key = ?")
                .bind(key.as_str())
                .execute(conn)?;
        }
        Ok(())
    }
}
