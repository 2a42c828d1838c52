//! Login sessions of the authorization pages, kept in the database (table oauth_sessions) so
//! that any server process can continue a browser's flow.
//!
//! The cookie `chartd_session` (Path=/o, HttpOnly, SameSite=Lax, Secure under an https
//! CHARTD_PUBLIC_URL) holds a random token; the table holds its SHA-256 and the SHA-256 of
//! the session's current CSRF token. A browser without a session gets an anonymous one with
//! the login form; a successful login replaces it with a new signed-in session (a new token,
//! against session fixation). Each rendered form gets a fresh CSRF token, so only the latest
//! form of a session can be posted.

use actix_web::http::header;
use actix_web::HttpRequest;
use chrono::Duration;

use crate::api::auth::{hash_token, new_token};
use crate::api::compiled::now;
use crate::db::{Conn, Sql, Ty};

use super::secret::hashes_equal;

pub const COOKIE: &str = "chartd_session";
/// Seconds an anonymous session (a login form) lives.
pub const ANONYMOUS_TTL: i64 = 3600;
/// Seconds a signed-in session lives.
pub const SIGNED_IN_TTL: i64 = 8 * 3600;

/// The signed-in user of a session.
#[derive(Clone, Debug)]
pub struct SessionUser {
    pub id: i64,
    pub username: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: i64,
    pub user: Option<SessionUser>,
    csrf_hash: String,
}

impl Session {
    /// Whether a posted CSRF token is this session's current one (constant time).
    pub fn csrf_ok(&self, presented: Option<&str>) -> bool {
        presented.is_some_and(|t| hashes_equal(&hash_token(t), &self.csrf_hash))
    }
}

/// The session token the browser sent, if any.
pub fn cookie_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value.trim_matches('"').to_string())
}

/// The Set-Cookie value carrying a session token.
pub fn set_cookie(token: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{COOKIE}={token}; Path=/o; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// A live session by its token. A session whose user was archived counts as none.
pub fn load(conn: &mut Conn, token: &str) -> diesel::QueryResult<Option<Session>> {
    let row = Sql::new(
        "SELECT s.id, s.csrf_hash, s.user_id, u.username, u.first_name, u.last_name, u.archived \
         FROM oauth_sessions s LEFT JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = ? AND s.expires_at > ?",
    )
    .bind(hash_token(token))
    .bind(now())
    .load_one(
        conn,
        &[
            Ty::Int,
            Ty::Text,
            Ty::Int,
            Ty::Text,
            Ty::Text,
            Ty::Text,
            Ty::Bool,
        ],
    )?;
    let Some(row) = row else { return Ok(None) };
    let user = match row[2].as_i64() {
        None => None,
        Some(_) if row[6].as_bool().unwrap_or(true) => return Ok(None),
        Some(id) => {
            let name = format!(
                "{} {}",
                row[4].as_str().unwrap_or(""),
                row[5].as_str().unwrap_or("")
            );
            Some(SessionUser {
                id,
                username: row[3].as_str().unwrap_or("").to_string(),
                name: name.trim().to_string(),
            })
        }
    };
    Ok(Some(Session {
        id: row[0].as_i64().unwrap_or_default(),
        user,
        csrf_hash: row[1].as_str().unwrap_or("").to_string(),
    }))
}

/// Starts a session (anonymous when `user` is None); answers (session token, CSRF token).
/// Expired sessions are swept on the way.
pub fn create(conn: &mut Conn, user: Option<i64>) -> diesel::QueryResult<(String, String)> {
    let t = now();
    Sql::new("DELETE FROM oauth_sessions WHERE expires_at <= ?")
        .bind(t)
        .execute(conn)?;
    let token = new_token();
    let csrf = new_token();
    let ttl = if user.is_some() {
        SIGNED_IN_TTL
    } else {
        ANONYMOUS_TTL
    };
    Sql::new(
        "INSERT INTO oauth_sessions (token_hash, csrf_hash, user_id, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(hash_token(&token))
    .bind(hash_token(&csrf))
    .bind(crate::db::Val::Int(user))
    .bind(t)
    .bind(t + Duration::seconds(ttl))
    .execute(conn)?;
    Ok((token, csrf))
}

/// Gives a session a new CSRF token (for the form about to be rendered).
pub fn new_csrf(conn: &mut Conn, session: i64) -> diesel::QueryResult<String> {
    let csrf = new_token();
    Sql::new("UPDATE oauth_sessions SET csrf_hash = ? WHERE id = ?")
        .bind(hash_token(&csrf))
        .bind(session)
        .execute(conn)?;
    Ok(csrf)
}

pub fn delete(conn: &mut Conn, session: i64) -> diesel::QueryResult<()> {
    Sql::new("DELETE FROM oauth_sessions WHERE id = ?")
        .bind(session)
        .execute(conn)?;
    Ok(())
}
