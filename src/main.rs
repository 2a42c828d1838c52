//! The `chartd` command line: serve, migrate, openapi and the operator's `... create` commands.
//! Each command prints one JSON object on stdout; errors go to stderr with a non-zero exit.

use std::net::TcpListener;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::json;

use chartd::admin::{self, NewApp, NewUser};
use chartd::app;
use chartd::db::{migrate, Db, DbUrl};
use chartd::oauth::secret::ServerKey;
use chartd::settings::{Settings, Store};
use chartd::webhooks::dispatch::Dispatcher;
use chartd::webhooks::{Config as WebhookConfig, Hub, WebhookMetrics};

/// mimalloc: list answers allocate a value per field, and glibc's allocator was a tenth of
/// their CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "chartd",
    version,
    about = "An EHR REST/JSON API server in the DrChrono v4 style"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the API.
    Serve {
        #[command(flatten)]
        settings: Settings,
        /// Seed a demo practice (idempotent), print its logins, and allow private webhook URLs.
        #[arg(long)]
        demo: bool,
    },
    /// Deliver webhooks (a dispatcher without the HTTP API), until SIGTERM or SIGINT.
    Worker {
        #[command(flatten)]
        settings: Settings,
        /// Also serve /metrics (Prometheus) and /healthz on this address.
        #[arg(long = "metrics-bind")]
        metrics_bind: Option<String>,
    },
    /// Apply pending migrations.
    Migrate {
        #[command(flatten)]
        store: Store,
    },
    /// Print the OpenAPI document (what /openapi.json serves).
    Openapi,
    /// Practice groups.
    Practice {
        #[command(flatten)]
        store: Store,
        #[command(subcommand)]
        action: PracticeCmd,
    },
    /// Users (doctors and staff).
    User {
        #[command(flatten)]
        store: Store,
        #[command(subcommand)]
        action: UserCmd,
    },
    /// Offices.
    Office {
        #[command(flatten)]
        store: Store,
        #[command(subcommand)]
        action: OfficeCmd,
    },
    /// OAuth applications.
    App {
        #[command(flatten)]
        store: Store,
        #[command(subcommand)]
        action: AppCmd,
    },
    /// Access tokens.
    Token {
        #[command(flatten)]
        store: Store,
        #[command(subcommand)]
        action: TokenCmd,
    },
    /// Webhooks of an app.
    Webhook {
        #[command(flatten)]
        store: Store,
        #[command(subcommand)]
        action: WebhookCmd,
    },
}

#[derive(Subcommand)]
enum WebhookCmd {
    /// Register a webhook (unverified until the app verifies it).
    Create {
        #[arg(long = "client-id", allow_hyphen_values = true)]
        client_id: String,
        #[arg(long = "callback-url")]
        callback_url: String,
        /// At least 32 random characters, e.g. `openssl rand -hex 20`.
        #[arg(long = "secret-token")]
        secret_token: String,
        /// Comma-separated event names, e.g. PATIENT_CREATE,PATIENT_MODIFY.
        #[arg(long)]
        events: String,
    },
}

#[derive(Subcommand)]
enum PracticeCmd {
    /// Create a practice group.
    Create {
        /// The practice's name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    Create {
        #[arg(long)]
        practice: i64,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        /// doctor or staff.
        #[arg(long)]
        role: String,
        /// A staff user's primary physician (doctor id).
        #[arg(long)]
        doctor: Option<i64>,
        #[arg(long = "first-name", default_value = "")]
        first_name: String,
        #[arg(long = "last-name", default_value = "")]
        last_name: String,
    },
}

#[derive(Subcommand)]
enum OfficeCmd {
    Create {
        #[arg(long)]
        practice: i64,
        #[arg(long)]
        doctor: i64,
        #[arg(long)]
        name: String,
        #[arg(long = "exam-rooms", default_value_t = 1)]
        exam_rooms: u32,
    },
}

#[derive(Subcommand)]
enum AppCmd {
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "redirect-uri", required = true)]
        redirect_uri: Vec<String>,
        #[arg(long = "rate-limit")]
        rate_limit: Option<i64>,
        #[arg(long = "iframe-patient-url")]
        iframe_patient_url: Option<String>,
        #[arg(long = "iframe-clinical-note-url")]
        iframe_clinical_note_url: Option<String>,
    },
    /// Change an app's hourly call limit.
    Update {
        #[arg(long = "client-id", allow_hyphen_values = true)]
        client_id: String,
        /// Calls per hour; `default` returns to CHARTD_RATE_LIMIT_PER_HOUR.
        #[arg(long = "rate-limit")]
        rate_limit: String,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    Create {
        #[arg(long = "client-id", allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        user: i64,
        /// Space-separated scopes, e.g. "patients calendar:read".
        #[arg(long)]
        scope: String,
    },
}

fn open_db(settings: &Settings) -> anyhow::Result<Db> {
    let url = DbUrl::parse(&settings.store.database_url)?;
    let db = Db::connect(&url, settings.db_pool_size).context("could not open the database")?;
    migrate::run(&mut *db.get()?)?;
    Ok(db)
}

fn print(v: serde_json::Value) {
    println!("{v}");
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("chartd: {e:#}");
        std::process::exit(1);
    }
}

impl Command {
    /// The settings a command runs with: the server's own, or an operator command's store
    /// with every other value from its variable or default.
    fn settings(&self) -> Settings {
        match self {
            Command::Serve { settings, .. } | Command::Worker { settings, .. } => settings.clone(),
            Command::Migrate { store }
            | Command::Practice { store, .. }
            | Command::User { store, .. }
            | Command::Office { store, .. }
            | Command::App { store, .. }
            | Command::Token { store, .. }
            | Command::Webhook { store, .. } => Settings::with_store(store.clone()),
            Command::Openapi => Settings::from_env(),
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.command.settings();
    match cli.command {
        Command::Serve { demo, .. } => serve(settings, demo),
        Command::Worker { metrics_bind, .. } => worker(settings, metrics_bind),
        Command::Migrate { .. } => {
            let url = DbUrl::parse(&settings.store.database_url)?;
            let db = Db::connect(&url, 1)?;
            let applied = migrate::run(&mut *db.get()?)?;
            print(json!({"applied": applied}));
            Ok(())
        }
        Command::Openapi => {
            print!("{}", chartd::openapi::render(chartd::resources::registry()));
            Ok(())
        }
        Command::Practice {
            action: PracticeCmd::Create { name },
            ..
        } => {
            let db = open_db(&settings)?;
            let id = admin::practice_create(&mut *db.get()?, &name)?;
            print(json!({"id": id}));
            Ok(())
        }
        Command::User {
            action:
                UserCmd::Create {
                    practice,
                    username,
                    password,
                    role,
                    doctor,
                    first_name,
                    last_name,
                },
            ..
        } => {
            let db = open_db(&settings)?;
            let user = NewUser {
                practice,
                username,
                password,
                role,
                doctor,
                first_name,
                last_name,
            };
            let (id, doctor) = admin::user_create(&mut *db.get()?, &user)?;
            print(json!({"id": id, "doctor": doctor}));
            Ok(())
        }
        Command::Office {
            action:
                OfficeCmd::Create {
                    practice,
                    doctor,
                    name,
                    exam_rooms,
                },
            ..
        } => {
            let db = open_db(&settings)?;
            let (id, rooms) =
                admin::office_create(&mut *db.get()?, practice, doctor, &name, exam_rooms)?;
            print(json!({"id": id, "exam_rooms": rooms}));
            Ok(())
        }
        Command::App {
            action:
                AppCmd::Create {
                    name,
                    redirect_uri,
                    rate_limit,
                    iframe_patient_url,
                    iframe_clinical_note_url,
                },
            ..
        } => {
            let key = ServerKey::new(&settings.load_secret_key()?);
            let db = open_db(&settings)?;
            let app = NewApp {
                name,
                redirect_uris: redirect_uri,
                rate_limit,
                iframe_patient_url,
                iframe_clinical_note_url,
                client_id: None,
            };
            let (id, client_id, secret) = admin::app_create(&mut *db.get()?, &key, &app)?;
            print(json!({"id": id, "client_id": client_id, "client_secret": secret}));
            Ok(())
        }
        Command::App {
            action:
                AppCmd::Update {
                    client_id,
                    rate_limit,
                },
            ..
        } => {
            let limit = match rate_limit.as_str() {
                "default" => None,
                n => Some(n.parse::<i64>().map_err(|_| {
                    anyhow::anyhow!("--rate-limit must be a number or \"default\"")
                })?),
            };
            let db = open_db(&settings)?;
            let id = admin::app_set_rate_limit(&mut *db.get()?, &client_id, limit)?;
            print(json!({"id": id, "client_id": client_id, "rate_limit": limit}));
            Ok(())
        }
        Command::Webhook {
            action:
                WebhookCmd::Create {
                    client_id,
                    callback_url,
                    secret_token,
                    events,
                },
            ..
        } => {
            let db = open_db(&settings)?;
            let id = admin::webhook_create(
                &mut *db.get()?,
                &client_id,
                &callback_url,
                &secret_token,
                &events,
                settings.webhook_allow_private.unwrap_or(false),
            )?;
            print(json!({"id": id}));
            Ok(())
        }
        Command::Token {
            action:
                TokenCmd::Create {
                    client_id,
                    user,
                    scope,
                },
            ..
        } => {
            let db = open_db(&settings)?;
            let t = admin::token_create(
                &mut *db.get()?,
                &client_id,
                user,
                &scope,
                settings.access_token_ttl,
                None,
            )?;
            print(serde_json::to_value(t)?);
            Ok(())
        }
    }
}

fn serve(mut settings: Settings, demo: bool) -> anyhow::Result<()> {
    chartd::telemetry::init(&settings.log, &settings.log_format);
    if demo && settings.webhook_allow_private.is_none() {
        settings.webhook_allow_private = Some(true);
    }
    // Resolved once here (reading or generating the key file), so the state cannot fail.
    settings.store.secret_key = Some(settings.load_secret_key()?);
    WebhookConfig::from_settings(&settings)?;
    let db = open_db(&settings)?;
    if demo {
        let key = ServerKey::new(settings.store.secret_key.as_deref().unwrap_or_default());
        let info = admin::demo_seed(&mut *db.get()?, &key, settings.access_token_ttl)?;
        print(json!({"demo": info, "url": settings.public_url()}));
    }
    let listener = TcpListener::bind(&settings.bind)
        .with_context(|| format!("could not bind {}", settings.bind))?;
    let workers = settings.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    actix_web::rt::System::new().block_on(async move {
        let bind = settings.bind.clone();
        let public_url = settings.public_url();
        let app = app::Application::build(settings, db, listener, workers, Default::default())?;
        tracing::info!(bind = %bind, public_url = %public_url, "chartd serving");
        app.run_until_stopped().await?;
        tracing::info!("chartd stopped");
        anyhow::Ok(())
    })
}

/// `chartd worker`: only the webhook dispatcher, until SIGTERM or SIGINT; then the attempts in
/// flight finish and are recorded.
fn worker(settings: Settings, metrics_bind: Option<String>) -> anyhow::Result<()> {
    chartd::telemetry::init(&settings.log, &settings.log_format);
    let config = WebhookConfig::from_settings(&settings)?;
    anyhow::ensure!(
        config.concurrency > 0,
        "CHARTD_WEBHOOK_CONCURRENCY must be at least 1 for a worker"
    );
    let db = open_db(&settings)?;
    let metrics = WebhookMetrics::default();
    let hub = Arc::new(Hub::new(config, metrics.clone())?);
    let listener = match &metrics_bind {
        Some(addr) => {
            Some(TcpListener::bind(addr).with_context(|| format!("could not bind {addr}"))?)
        }
        None => None,
    };
    actix_web::rt::System::new().block_on(async move {
        if let Some(listener) = listener {
            let mut registry = prometheus_client::registry::Registry::default();
            metrics.register(&mut registry);
            actix_web::rt::spawn(app::metrics_server(registry, listener)?);
        }
        let dispatcher = Dispatcher::start(db, hub);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("chartd worker stopping");
        dispatcher.stop().await;
        anyhow::Ok(())
    })
}
