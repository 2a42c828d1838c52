//! Operator actions behind the `chartd ... create` commands (and the demo seed): practice
//! groups, users (with their doctor records), offices, OAuth apps and tokens. Each runs in
//! one transaction and checks its input; errors name the flag that is wrong.

use anyhow::{bail, Context};
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use serde_json::{json, Value};

use crate::api::auth::{hash_token, new_token, Perm, Scopes};
use crate::api::compiled::now;
use crate::db::{transaction, Conn, Sql, Ty, Val};
use crate::oauth::secret::ServerKey;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("could not hash password: {e}"))
}

pub fn practice_create(conn: &mut Conn, name: &str) -> anyhow::Result<i64> {
    if name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    let t = now();
    Sql::new(
        "INSERT INTO practice_groups (name, created_at, updated_at) VALUES (?, ?, ?) RETURNING id",
    )
    .bind(name.trim())
    .bind(t)
    .bind(t)
    .load_i64(conn)?
    .context("no id returned")
}

fn practice_exists(conn: &mut Conn, id: i64) -> anyhow::Result<bool> {
    Ok(Sql::new("SELECT id FROM practice_groups WHERE id = ?")
        .bind(id)
        .load_i64(conn)?
        .is_some())
}

#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub practice: i64,
    pub username: String,
    pub password: String,
    /// "doctor" or "staff".
    pub role: String,
    /// A staff user's primary physician.
    pub doctor: Option<i64>,
    pub first_name: String,
    pub last_name: String,
}

/// Creates a user; a doctor user also gets its doctor record and every permission.
/// Answers (user id, doctor id).
pub fn user_create(conn: &mut Conn, u: &NewUser) -> anyhow::Result<(i64, i64)> {
    if u.username.trim().is_empty() {
        bail!("--username must not be empty");
    }
    if u.password.len() < 8 {
        bail!("--password must have at least 8 characters");
    }
    let is_doctor = match u.role.as_str() {
        "doctor" => true,
        "staff" => false,
        other => bail!("--role must be doctor or staff, not {other:?}"),
    };
    let hash = hash_password(&u.password)?;
    transaction(conn, |conn| {
        if !practice_exists(conn, u.practice)? {
            bail!("--practice {}: no such practice group", u.practice);
        }
        let taken = Sql::new("SELECT id FROM users WHERE username = ?")
            .bind(u.username.as_str())
            .load_i64(conn)?;
        if taken.is_some() {
            bail!("--username {:?} is taken", u.username);
        }
        let t = now();
        let doctor = if is_doctor {
            Sql::new(
                "INSERT INTO doctors (practice_group_id, first_name, last_name, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(u.practice)
            .bind(u.first_name.as_str())
            .bind(u.last_name.as_str())
            .bind(t)
            .bind(t)
            .load_i64(conn)?
            .context("no id returned")?
        } else {
            let doctor = u
                .doctor
                .context("a staff user needs --doctor (their primary physician)")?;
            let found = Sql::new("SELECT id FROM doctors WHERE id = ? AND practice_group_id = ?")
                .bind(doctor)
                .bind(u.practice)
                .load_i64(conn)?;
            if found.is_none() {
                bail!(
                    "--doctor {doctor}: no such doctor in practice group {}",
                    u.practice
                );
            }
            doctor
        };
        // Staff start with every permission but billing and settings; an operator narrows or
        // widens them in the database (the reference has no API for permissions).
        let perms = if is_doctor {
            Perm::all_json()
        } else {
            let mut map = serde_json::Map::new();
            for p in Perm::ALL {
                let on = !matches!(
                    p,
                    Perm::Settings
                        | Perm::AccessBilling
                        | Perm::ShowBillingTab
                        | Perm::AccessPatientPayments
                );
                map.insert(p.key().into(), on.into());
            }
            Value::Object(map).to_string()
        };
        let user = Sql::new(
            "INSERT INTO users (practice_group_id, username, password_hash, first_name, last_name, \
             is_doctor, is_staff, doctor, permissions, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(u.practice)
        .bind(u.username.trim())
        .bind(hash.as_str())
        .bind(u.first_name.as_str())
        .bind(u.last_name.as_str())
        .bind(is_doctor)
        .bind(!is_doctor)
        .bind(doctor)
        .bind(perms)
        .bind(t)
        .bind(t)
        .load_i64(conn)?
        .context("no id returned")?;
        Ok((user, doctor))
    })
}

/// Creates an office with `exam_rooms` rooms named "Exam 1".."Exam N". Answers (id, rooms).
pub fn office_create(
    conn: &mut Conn,
    practice: i64,
    doctor: i64,
    name: &str,
    exam_rooms: u32,
) -> anyhow::Result<(i64, Value)> {
    if name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    if exam_rooms > 100 {
        bail!("--exam-rooms must be at most 100");
    }
    transaction(conn, |conn| {
        let found = Sql::new("SELECT id FROM doctors WHERE id = ? AND practice_group_id = ?")
            .bind(doctor)
            .bind(practice)
            .load_i64(conn)?;
        if found.is_none() {
            bail!("--doctor {doctor}: no such doctor in practice group {practice}");
        }
        let rooms: Vec<Value> = (1..=exam_rooms)
            .map(|i| json!({"index": i, "name": format!("Exam {i}"), "online_scheduling": false}))
            .collect();
        let rooms = Value::Array(rooms);
        let t = now();
        let id = Sql::new(
            "INSERT INTO offices (practice_group_id, doctor, name, exam_rooms, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(practice)
        .bind(doctor)
        .bind(name.trim())
        .bind(rooms.to_string())
        .bind(t)
        .bind(t)
        .load_i64(conn)?
        .context("no id returned")?;
        Ok((id, rooms))
    })
}

#[derive(Clone, Debug, Default)]
pub struct NewApp {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub rate_limit: Option<i64>,
    pub iframe_patient_url: Option<String>,
    pub iframe_clinical_note_url: Option<String>,
    /// A fixed client_id (the demo app's); random when None.
    pub client_id: Option<String>,
}

fn check_url(flag: &str, u: &str) -> anyhow::Result<()> {
    let parsed =
        url::Url::parse(u).with_context(|| format!("{flag} {u:?} is not an absolute URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.fragment().is_some() {
        bail!("{flag} {u:?} must be an http(s) URL without a fragment");
    }
    Ok(())
}

/// Registers an OAuth application. Answers (id, client_id, client_secret). The secret is
/// derived from the server key and the client_id (`oauth::secret`); only its hash is stored.
pub fn app_create(
    conn: &mut Conn,
    key: &ServerKey,
    a: &NewApp,
) -> anyhow::Result<(i64, String, String)> {
    if a.name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    if a.redirect_uris.is_empty() {
        bail!("at least one --redirect-uri is required");
    }
    for u in &a.redirect_uris {
        check_url("--redirect-uri", u)?;
    }
    for (flag, u) in [
        ("--iframe-patient-url", &a.iframe_patient_url),
        ("--iframe-clinical-note-url", &a.iframe_clinical_note_url),
    ] {
        if let Some(u) = u {
            check_url(flag, u)?;
        }
    }
    if let Some(n) = a.rate_limit {
        if n < 1 {
            bail!("--rate-limit must be at least 1");
        }
    }
    let client_id = a
        .client_id
        .clone()
        .unwrap_or_else(|| new_token()[..32].to_string());
    let secret = key.client_secret(&client_id);
    let t = now();
    let id = Sql::new(
        "INSERT INTO apps (name, client_id, client_secret_hash, redirect_uris, rate_limit_per_hour, \
         iframe_patient_url, iframe_clinical_note_url, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(a.name.trim())
    .bind(client_id.as_str())
    .bind(hash_token(&secret))
    .bind(serde_json::to_string(&a.redirect_uris)?)
    .bind(Val::Int(a.rate_limit))
    .bind(a.iframe_patient_url.clone().unwrap_or_default())
    .bind(a.iframe_clinical_note_url.clone().unwrap_or_default())
    .bind(t)
    .bind(t)
    .load_i64(conn)?
    .context("no id returned")?;
    Ok((id, client_id, secret))
}

/// Changes an app's hourly call limit (None: back to CHARTD_RATE_LIMIT_PER_HOUR). Takes
/// effect in every server process within seconds (they read an app's limit again every 5 seconds).
pub fn app_set_rate_limit(
    conn: &mut Conn,
    client_id: &str,
    limit: Option<i64>,
) -> anyhow::Result<i64> {
    if limit.is_some_and(|n| n < 1) {
        bail!("--rate-limit must be at least 1");
    }
    let id = Sql::new("SELECT id FROM apps WHERE client_id = ?")
        .bind(client_id)
        .load_i64(conn)?
        .with_context(|| format!("--client-id {client_id:?}: no such app"))?;
    Sql::new("UPDATE apps SET rate_limit_per_hour = ?, updated_at = ? WHERE id = ?")
        .bind(Val::Int(limit))
        .bind(now())
        .bind(id)
        .execute(conn)?;
    Ok(id)
}

/// An issued token pair, shown once.
#[derive(Clone, Debug, serde::Serialize)]
pub struct IssuedToken {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub scope: String,
}

/// Issues a token for a user and app without the consent screen (the operator's shortcut).
/// `fixed_access` pins the access token's value (the demo's documented token).
pub fn token_create(
    conn: &mut Conn,
    client_id: &str,
    user: i64,
    scope: &str,
    ttl: i64,
    fixed_access: Option<&str>,
) -> anyhow::Result<IssuedToken> {
    Scopes::parse(scope).map_err(|w| anyhow::anyhow!("--scope: unknown scope {w:?}"))?;
    if scope.split_whitespace().next().is_none() {
        bail!("--scope must name at least one scope");
    }
    let scope = scope.split_whitespace().collect::<Vec<_>>().join(" ");
    let app = Sql::new("SELECT id FROM apps WHERE client_id = ?")
        .bind(client_id)
        .load_i64(conn)?
        .with_context(|| format!("--client-id {client_id:?}: no such app"))?;
    let found = Sql::new("SELECT id FROM users WHERE id = ? AND archived = ?")
        .bind(user)
        .bind(false)
        .load_i64(conn)?;
    if found.is_none() {
        bail!("--user {user}: no such user");
    }
    let access = fixed_access.map(str::to_string).unwrap_or_else(new_token);
    let refresh = new_token();
    transaction(conn, |conn| {
        if fixed_access.is_some() {
            Sql::new("DELETE FROM access_tokens WHERE token_hash = ?")
                .bind(hash_token(&access))
                .execute(conn)?;
        }
        let family = crate::oauth::token::new_family(conn, app, user)?;
        crate::oauth::token::insert_token(conn, family, app, user, &scope, ttl, &access, &refresh)?;
        anyhow::Ok(())
    })?;
    Ok(IssuedToken {
        access_token: access,
        refresh_token: refresh,
        expires_in: ttl,
        scope,
    })
}

/// Registers a webhook for an app (unverified: the app verifies it with POST
/// /api/webhooks/{id}/verify). Checked as POST /api/webhooks checks it; errors name the flag.
pub fn webhook_create(
    conn: &mut Conn,
    client_id: &str,
    callback_url: &str,
    secret_token: &str,
    events: &str,
    allow_private: bool,
) -> anyhow::Result<i64> {
    use crate::webhooks::{api, guard, input};
    let body =
        json!({"callback_url": callback_url, "secret_token": secret_token, "events": events});
    let input =
        input::parse_input(body.as_object().context("a JSON object")?, true).map_err(|e| {
            let (key, messages) =
                e.0.iter()
                    .next()
                    .map(|(k, m)| (k.clone(), m.join(" ")))
                    .unwrap_or_default();
            anyhow::anyhow!("--{}: {messages}", key.replace('_', "-"))
        })?;
    if let Some(url) = &input.callback_url {
        guard::check_url_blocking(url, allow_private)
            .map_err(|e| anyhow::anyhow!("--callback-url: {e}"))?;
    }
    let app = Sql::new("SELECT id FROM apps WHERE client_id = ?")
        .bind(client_id)
        .load_i64(conn)?
        .with_context(|| format!("--client-id {client_id:?}: no such app"))?;
    api::insert(conn, app, input, now()).map_err(|e| match e {
        crate::error::ApiError::BadRequest(d) => anyhow::anyhow!(d),
        other => anyhow::anyhow!("{other}"),
    })
}

/// What `serve --demo` prints.
#[derive(Debug, serde::Serialize)]
pub struct DemoInfo {
    pub practice_id: i64,
    pub doctor_username: String,
    pub staff_username: String,
    pub password: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub access_token: String,
}

pub const DEMO_PASSWORD: &str = "chartd-demo-password";
pub const DEMO_CLIENT_ID: &str = "chartd-demo-client";
pub const DEMO_REDIRECT_URI: &str = "http://127.0.0.1:8080/callback";
pub const DEMO_ACCESS_TOKEN: &str = "chartd-demo-access-token";

/// Seeds the demo practice once (a doctor, a staff user, an office, an app, two patients)
/// and re-issues the documented demo token with a fresh expiry on every start. The demo
/// app's secret is derived from the server key like every other; its stored hash is renewed
/// on every start, so it follows a changed key.
pub fn demo_seed(conn: &mut Conn, key: &ServerKey, ttl: i64) -> anyhow::Result<DemoInfo> {
    let existing = Sql::new("SELECT id FROM users WHERE username = ?")
        .bind("demo_doctor")
        .load_one(conn, &[Ty::Int])?;
    let user = match existing {
        Some(row) => row[0].as_i64().context("no id")?,
        None => {
            let practice = practice_create(conn, "Demo Family Practice")?;
            let (user, doctor) = user_create(
                conn,
                &NewUser {
                    practice,
                    username: "demo_doctor".into(),
                    password: DEMO_PASSWORD.into(),
                    role: "doctor".into(),
                    first_name: "Grace".into(),
                    last_name: "Hopper".into(),
                    ..NewUser::default()
                },
            )?;
            user_create(
                conn,
                &NewUser {
                    practice,
                    username: "demo_staff".into(),
                    password: DEMO_PASSWORD.into(),
                    role: "staff".into(),
                    doctor: Some(doctor),
                    first_name: "Alan".into(),
                    last_name: "Turing".into(),
                },
            )?;
            office_create(conn, practice, doctor, "Main Street Clinic", 2)?;
            app_create(
                conn,
                key,
                &NewApp {
                    name: "Demo App".into(),
                    redirect_uris: vec![DEMO_REDIRECT_URI.into()],
                    client_id: Some(DEMO_CLIENT_ID.into()),
                    ..NewApp::default()
                },
            )?;
            let t = now();
            for (first, last, gender, dob) in [
                ("Ada", "Lovelace", "Female", "1815-12-10"),
                ("Charles", "Babbage", "Male", "1791-12-26"),
            ] {
                Sql::new(
                    "INSERT INTO patients (practice_group_id, doctor, first_name, last_name, gender, \
                     date_of_birth, chart_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(practice)
                .bind(doctor)
                .bind(first)
                .bind(last)
                .bind(gender)
                .bind(chrono::NaiveDate::parse_from_str(dob, "%Y-%m-%d")?)
                .bind(format!("{}{}000001", &last[..4].to_uppercase(), &first[..2].to_uppercase()))
                .bind(t)
                .bind(t)
                .execute(conn)?;
            }
            user
        }
    };
    let client_secret = key.client_secret(DEMO_CLIENT_ID);
    Sql::new("UPDATE apps SET client_secret_hash = ? WHERE client_id = ?")
        .bind(hash_token(&client_secret))
        .bind(DEMO_CLIENT_ID)
        .execute(conn)?;
    let practice_id = Sql::new("SELECT practice_group_id FROM users WHERE id = ?")
        .bind(user)
        .load_i64(conn)?
        .context("demo user vanished")?;
    let all_scopes = crate::api::auth::Scope::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    token_create(
        conn,
        DEMO_CLIENT_ID,
        user,
        &all_scopes,
        ttl,
        Some(DEMO_ACCESS_TOKEN),
    )?;
    Ok(DemoInfo {
        practice_id,
        doctor_username: "demo_doctor".into(),
        staff_username: "demo_staff".into(),
        password: DEMO_PASSWORD.into(),
        client_id: DEMO_CLIENT_ID.into(),
        client_secret,
        redirect_uri: DEMO_REDIRECT_URI.into(),
        access_token: DEMO_ACCESS_TOKEN.into(),
    })
}
