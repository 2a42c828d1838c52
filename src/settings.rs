//! One typed Settings: each field names its CHARTD_* variable and its flag (a flag overrides
//! the variable), as CONTRACT.md lists them.

use std::time::Duration;

use clap::Args;

#[derive(Args, Clone, Debug)]
pub struct Settings {
    /// `sqlite://PATH` or `postgres://...`.
    #[arg(
        long = "database-url",
        env = "CHARTD_DATABASE_URL",
        default_value = "sqlite://chartd.db",
        global = true
    )]
    pub database_url: String,

    /// Listen address.
    #[arg(
        long,
        env = "CHARTD_BIND",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub bind: String,

    /// Absolute base for links and redirects; default http://{bind}.
    #[arg(long = "public-url", env = "CHARTD_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Default hourly call limit per application.
    #[arg(
        long = "rate-limit-per-hour",
        env = "CHARTD_RATE_LIMIT_PER_HOUR",
        default_value_t = 500,
        global = true
    )]
    pub rate_limit_per_hour: i64,

    /// Count /api/ calls against the hourly limits (turn off only to measure its cost).
    #[arg(long = "rate-limit-enabled", env = "CHARTD_RATE_LIMIT_ENABLED", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub rate_limit_enabled: bool,

    /// Seconds a resolved access token is remembered in process (a revocation made through
    /// another process takes up to this long to apply here).
    #[arg(
        long = "token-cache-seconds",
        env = "CHARTD_TOKEN_CACHE_SECONDS",
        default_value_t = 10,
        global = true
    )]
    pub token_cache_seconds: u64,

    /// Access token lifetime in seconds.
    #[arg(
        long = "access-token-ttl",
        env = "CHARTD_ACCESS_TOKEN_TTL",
        default_value_t = 172_800,
        global = true
    )]
    pub access_token_ttl: i64,

    /// Seconds an authorization code lives.
    #[arg(
        long = "auth-code-ttl",
        env = "CHARTD_AUTH_CODE_TTL",
        default_value_t = 60,
        global = true
    )]
    pub auth_code_ttl: i64,

    /// Redelivery offsets from the initial event.
    #[arg(
        long = "webhook-retry-schedule",
        env = "CHARTD_WEBHOOK_RETRY_SCHEDULE",
        default_value = "1h,3h,7h",
        global = true
    )]
    pub webhook_retry_schedule: String,

    /// Per delivery attempt.
    #[arg(
        long = "webhook-timeout",
        env = "CHARTD_WEBHOOK_TIMEOUT",
        default_value = "10s",
        global = true
    )]
    pub webhook_timeout: String,

    /// Allow callback URLs resolving to loopback/private/link-local addresses (true under --demo).
    #[arg(
        long = "webhook-allow-private",
        env = "CHARTD_WEBHOOK_ALLOW_PRIVATE",
        global = true
    )]
    pub webhook_allow_private: Option<bool>,

    /// Log filter (tracing-subscriber syntax).
    #[arg(
        long = "log",
        env = "CHARTD_LOG",
        default_value = "info",
        global = true
    )]
    pub log: String,

    /// Log format: `json` (structured, one object per line) or `text`.
    #[arg(
        long = "log-format",
        env = "CHARTD_LOG_FORMAT",
        default_value = "json",
        global = true
    )]
    pub log_format: String,

    /// Directory for uploaded files (created when needed).
    #[arg(
        long = "files-dir",
        env = "CHARTD_FILES_DIR",
        default_value = "files",
        global = true
    )]
    pub files_dir: String,

    /// Largest accepted upload, in bytes.
    #[arg(long = "max-upload-bytes", env = "CHARTD_MAX_UPLOAD_BYTES", default_value_t = 16 * 1024 * 1024, global = true)]
    pub max_upload_bytes: usize,

    /// Database connections per process.
    #[arg(
        long = "db-pool-size",
        env = "CHARTD_DB_POOL_SIZE",
        default_value_t = 10,
        global = true
    )]
    pub db_pool_size: u32,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CHARTD_WORKERS", global = true)]
    pub workers: Option<usize>,
}

impl Settings {
    /// CHARTD_PUBLIC_URL without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.bind),
        }
    }
}

/// Parses "90s", "10m", "1h" (or bare seconds) into a duration.
pub fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('s') => (&s[..s.len() - 1], 1),
        Some('m') => (&s[..s.len() - 1], 60),
        Some('h') => (&s[..s.len() - 1], 3600),
        _ => (s, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("not a duration: {s:?}"))?;
    Ok(Duration::from_secs(n * mult))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_suffixes() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("3h").unwrap(), Duration::from_secs(10800));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("x").is_err());
    }
}
