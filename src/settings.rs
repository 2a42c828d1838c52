//! One typed Settings: each field names its CHARTD_* variable and its flag (a flag overrides
//! the variable), as CONTRACT.md lists them.

use std::time::Duration;

use clap::Args;

/// Where the data is, and the key that signs and derives secrets: what every command that
/// opens the database takes (`global`: given before or after a subcommand).
#[derive(Args, Clone, Debug)]
pub struct Store {
    /// `sqlite://PATH` or `postgres://...`.
    #[arg(
        long = "database-url",
        env = "CHARTD_DATABASE_URL",
        default_value = "sqlite://chartd.db",
        global = true
    )]
    pub database_url: String,

    /// The server's secret key: client secrets are derived from it.
    /// Every process serving one database must share it. When unset, it is read from
    /// CHARTD_SECRET_KEY_FILE, which is generated (mode 0600) on first use.
    #[arg(
        long = "secret-key",
        env = "CHARTD_SECRET_KEY",
        hide_env_values = true,
        global = true
    )]
    pub secret_key: Option<String>,

    /// Where the secret key is kept when CHARTD_SECRET_KEY is unset.
    #[arg(
        long = "secret-key-file",
        env = "CHARTD_SECRET_KEY_FILE",
        default_value = "chartd.key",
        global = true
    )]
    pub secret_key_file: String,
}

/// The server's settings (`serve`, `worker`).
#[derive(Args, Clone, Debug)]
pub struct Settings {
    #[command(flatten)]
    pub store: Store,

    /// Listen address.
    #[arg(long, env = "CHARTD_BIND", default_value = "127.0.0.1:8000")]
    pub bind: String,

    /// Absolute base for links and redirects; default http://{bind}.
    #[arg(long = "public-url", env = "CHARTD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Default hourly call limit per application.
    #[arg(
        long = "rate-limit-per-hour",
        env = "CHARTD_RATE_LIMIT_PER_HOUR",
        default_value_t = 500
    )]
    pub rate_limit_per_hour: i64,

    /// Count /api/ calls against the hourly limits (turn off only to measure its cost).
    #[arg(long = "rate-limit-enabled", env = "CHARTD_RATE_LIMIT_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub rate_limit_enabled: bool,

    /// Seconds a resolved access token is remembered in process (a revocation made through
    /// another process takes up to this long to apply here).
    #[arg(
        long = "token-cache-seconds",
        env = "CHARTD_TOKEN_CACHE_SECONDS",
        default_value_t = 10
    )]
    pub token_cache_seconds: u64,

    /// Access token lifetime in seconds.
    #[arg(
        long = "access-token-ttl",
        env = "CHARTD_ACCESS_TOKEN_TTL",
        default_value_t = 172_800
    )]
    pub access_token_ttl: i64,

    /// Seconds an authorization code lives.
    #[arg(
        long = "auth-code-ttl",
        env = "CHARTD_AUTH_CODE_TTL",
        default_value_t = 60
    )]
    pub auth_code_ttl: i64,

    /// Wrong passwords for one account from one address within 15 to 30 minutes before its
    /// sign-ins from there are refused (0: not counted). A success clears the count.
    #[arg(
        long = "login-failures-per-account",
        env = "CHARTD_LOGIN_FAILURES_PER_ACCOUNT",
        default_value_t = 10
    )]
    pub login_failures_per_account: u32,

    /// Wrong passwords from one address, whatever the account (a password spray), within 15
    /// to 30 minutes before its sign-ins are refused (0: not counted).
    #[arg(
        long = "login-failures-per-address",
        env = "CHARTD_LOGIN_FAILURES_PER_ADDRESS",
        default_value_t = 50
    )]
    pub login_failures_per_address: u32,

    /// Failed client authentications and invalid grants of one client from one address
    /// within 15 to 30 minutes before its token, revocation and introspection requests from
    /// there are refused (0: not counted). Valid requests are never counted.
    #[arg(
        long = "token-failures-per-client",
        env = "CHARTD_TOKEN_FAILURES_PER_CLIENT",
        default_value_t = 20
    )]
    pub token_failures_per_client: u32,

    /// Failed client authentications and invalid grants from one address, whatever the
    /// client, within 15 to 30 minutes before its token requests are refused (0: not counted).
    #[arg(
        long = "token-failures-per-address",
        env = "CHARTD_TOKEN_FAILURES_PER_ADDRESS",
        default_value_t = 60
    )]
    pub token_failures_per_address: u32,

    /// Take the client address for throttling from the last X-Forwarded-For entry (set this
    /// only behind a load balancer that appends it).
    #[arg(
        long = "trust-forwarded-for",
        env = "CHARTD_TRUST_FORWARDED_FOR",
        default_value_t = false,
        action = clap::ArgAction::Set
    )]
    pub trust_forwarded_for: bool,

    /// Redelivery offsets from the initial event (`ms`, `s`, `m`, `h` suffixes; increasing).
    #[arg(
        long = "webhook-retry-schedule",
        env = "CHARTD_WEBHOOK_RETRY_SCHEDULE",
        default_value = "1h,3h,7h"
    )]
    pub webhook_retry_schedule: String,

    /// Per delivery attempt.
    #[arg(
        long = "webhook-timeout",
        env = "CHARTD_WEBHOOK_TIMEOUT",
        default_value = "10s"
    )]
    pub webhook_timeout: String,

    /// Allow callback URLs resolving to loopback/private/link-local addresses (true under --demo).
    #[arg(long = "webhook-allow-private", env = "CHARTD_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: Option<bool>,

    /// Webhook deliveries one process runs at once (0: this process delivers none; leave it
    /// to `chartd worker` processes).
    #[arg(
        long = "webhook-concurrency",
        env = "CHARTD_WEBHOOK_CONCURRENCY",
        default_value_t = 64
    )]
    pub webhook_concurrency: usize,

    /// Deliveries one process runs at once to one receiver (callback host and port), so a
    /// slow receiver cannot hold every slot.
    #[arg(
        long = "webhook-per-receiver",
        env = "CHARTD_WEBHOOK_PER_RECEIVER",
        default_value_t = 8
    )]
    pub webhook_per_receiver: usize,

    /// How long a process holds a claimed delivery; if it dies, another process takes the
    /// delivery over after this long. At least twice CHARTD_WEBHOOK_TIMEOUT + 5s.
    #[arg(
        long = "webhook-lease",
        env = "CHARTD_WEBHOOK_LEASE",
        default_value = "60s"
    )]
    pub webhook_lease: String,

    /// How often an idle dispatcher looks for due deliveries that other processes queued
    /// (its own process wakes it at once).
    #[arg(
        long = "webhook-poll",
        env = "CHARTD_WEBHOOK_POLL",
        default_value = "250ms"
    )]
    pub webhook_poll: String,

    /// Log filter (tracing-subscriber syntax).
    #[arg(long = "log", env = "CHARTD_LOG", default_value = "info")]
    pub log: String,

    /// Log format: `json` (structured, one object per line) or `text`.
    #[arg(long = "log-format", env = "CHARTD_LOG_FORMAT", default_value = "json")]
    pub log_format: String,

    /// Directory for uploaded files (created when needed).
    #[arg(long = "files-dir", env = "CHARTD_FILES_DIR", default_value = "files")]
    pub files_dir: String,

    /// Largest accepted upload, in bytes.
    #[arg(long = "max-upload-bytes", env = "CHARTD_MAX_UPLOAD_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_upload_bytes: usize,

    /// Database connections per process.
    #[arg(
        long = "db-pool-size",
        env = "CHARTD_DB_POOL_SIZE",
        default_value_t = 10
    )]
    pub db_pool_size: u32,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CHARTD_WORKERS")]
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

/// The shortest accepted secret key, in characters.
pub const MIN_SECRET_KEY_LEN: usize = 32;

/// Settings alone, for [`Settings::with_store`].
#[derive(clap::Parser)]
struct SettingsOnly {
    #[command(flatten)]
    settings: Settings,
}

impl Settings {
    /// The settings of an operator command: its store, every other value from its variable
    /// or its default.
    pub fn with_store(store: Store) -> Settings {
        Settings {
            store,
            ..Settings::from_env()
        }
    }

    /// Every value from its variable or its default.
    pub fn from_env() -> Settings {
        use clap::Parser;
        SettingsOnly::parse_from(["chartd"]).settings
    }

    pub fn load_secret_key(&self) -> anyhow::Result<String> {
        self.store.load_secret_key()
    }
}

impl Store {
    /// The server's secret key: CHARTD_SECRET_KEY, else the contents of CHARTD_SECRET_KEY_FILE,
    /// generated once (32 random bytes as hex, mode 0600) when the file does not exist.
    /// Processes starting together agree on one key: the file appears atomically, complete.
    pub fn load_secret_key(&self) -> anyhow::Result<String> {
        use anyhow::Context;
        if let Some(key) = &self.secret_key {
            anyhow::ensure!(
                key.trim().len() >= MIN_SECRET_KEY_LEN,
                "CHARTD_SECRET_KEY must have at least {MIN_SECRET_KEY_LEN} characters"
            );
            return Ok(key.trim().to_string());
        }
        let path = std::path::Path::new(&self.secret_key_file);
        let read = |path: &std::path::Path| -> anyhow::Result<String> {
            let key = std::fs::read_to_string(path)
                .with_context(|| format!("could not read {}", path.display()))?;
            let key = key.trim().to_string();
            anyhow::ensure!(
                key.len() >= MIN_SECRET_KEY_LEN,
                "{}: the key must have at least {MIN_SECRET_KEY_LEN} characters",
                path.display()
            );
            Ok(key)
        };
        if path.exists() {
            return read(path);
        }
        let key = {
            use rand::RngCore;
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            hex::encode(bytes)
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "chartd.key".into());
        let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = options
                .open(&tmp)
                .with_context(|| format!("could not create {}", tmp.display()))?;
            f.write_all(format!("{key}\n").as_bytes())?;
            f.sync_all()?;
        }
        // A hard link never replaces an existing file: whoever links first wins, and everyone
        // else reads the winner's key.
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                tracing::warn!(file = %path.display(), "generated a new secret key; processes sharing this database must share it (CHARTD_SECRET_KEY)");
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
            Err(e) => Err(e).with_context(|| format!("could not create {}", path.display())),
        }
    }
}

/// Parses "250ms", "90s", "10m", "1h" (or bare seconds) into a duration.
pub fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let s = s.trim();
    let (num, millis) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1)
    } else {
        match s.chars().last() {
            Some('s') => (&s[..s.len() - 1], 1000),
            Some('m') => (&s[..s.len() - 1], 60_000),
            Some('h') => (&s[..s.len() - 1], 3_600_000),
            _ => (s, 1000),
        }
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("not a duration: {s:?}"))?;
    Ok(Duration::from_millis(n.saturating_mul(millis)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_suffixes() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("3h").unwrap(), Duration::from_secs(10800));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert!(parse_duration("x").is_err());
    }
}
