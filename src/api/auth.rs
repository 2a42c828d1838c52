//! Bearer-token authentication, scopes, permissions and practice-group sharing settings.
//!
//! A token is stored only as its SHA-256 (tokens are 256-bit random strings, so a fast hash
//! is enough and lets the lookup use an index). The extractor resolves it, with its user,
//! practice group and application, in one indexed query.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::db::{Sql, Ty};
use crate::error::ApiError;
use crate::state::AppState;

/// An OAuth scope (CONTRACT.md). Each is granted for reading, writing or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    User,
    Calendar,
    Patients,
    PatientsSummary,
    Clinical,
    Billing,
    BillingPatientPayment,
    Labs,
    Messages,
    Settings,
    Tasks,
}

impl Scope {
    pub const ALL: [Scope; 11] = [
        Scope::User,
        Scope::Calendar,
        Scope::Patients,
        Scope::PatientsSummary,
        Scope::Clinical,
        Scope::Billing,
        Scope::BillingPatientPayment,
        Scope::Labs,
        Scope::Messages,
        Scope::Settings,
        Scope::Tasks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::Calendar => "calendar",
            Scope::Patients => "patients",
            Scope::PatientsSummary => "patients:summary",
            Scope::Clinical => "clinical",
            Scope::Billing => "billing",
            Scope::BillingPatientPayment => "billing:patient-payment",
            Scope::Labs => "labs",
            Scope::Messages => "messages",
            Scope::Settings => "settings",
            Scope::Tasks => "tasks",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// The scopes a token carries: one bit set for reading, one for writing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scopes {
    read: u32,
    write: u32,
}

impl Scopes {
    /// Parses a space-separated scope string; `NAME` grants both, `NAME:read` / `NAME:write`
    /// one. Returns the first unknown word as the error.
    pub fn parse(s: &str) -> Result<Scopes, String> {
        let mut out = Scopes::default();
        for word in s.split_whitespace() {
            let (name, read, write) = if let Some(n) = word.strip_suffix(":read") {
                (n, true, false)
            } else if let Some(n) = word.strip_suffix(":write") {
                (n, false, true)
            } else {
                (word, true, true)
            };
            let scope = Scope::ALL
                .iter()
                .find(|sc| sc.as_str() == name)
                .ok_or_else(|| word.to_string())?;
            if read {
                out.read |= scope.bit();
            }
            if write {
                out.write |= scope.bit();
            }
        }
        Ok(out)
    }

    /// Whether every grant of `other` is also one of these (a refresh may narrow a grant,
    /// never widen it).
    pub fn covers(&self, other: &Scopes) -> bool {
        other.read & !self.read == 0 && other.write & !self.write == 0
    }

    pub fn allows(&self, scope: Scope, write: bool) -> bool {
        let set = if write { self.write } else { self.read };
        set & scope.bit() != 0
    }
}

/// A user permission ("Required permissions" in the reference), stored in users.permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Perm {
    AccessBilling,
    ShowBillingTab,
    AccessPatientPayments,
    AccessClinicalNotes,
    ManagePatients,
    AccessScheduling,
    Settings,
    AccessMessageCenter,
}

impl Perm {
    pub const ALL: [Perm; 8] = [
        Perm::AccessBilling,
        Perm::ShowBillingTab,
        Perm::AccessPatientPayments,
        Perm::AccessClinicalNotes,
        Perm::ManagePatients,
        Perm::AccessScheduling,
        Perm::Settings,
        Perm::AccessMessageCenter,
    ];

    /// The key in the users `permissions` object.
    pub fn key(self) -> &'static str {
        match self {
            Perm::AccessBilling => "access_billing",
            Perm::ShowBillingTab => "show_billing_tab",
            Perm::AccessPatientPayments => "access_patient_payments",
            Perm::AccessClinicalNotes => "access_clinical_notes",
            Perm::ManagePatients => "manage_patients",
            Perm::AccessScheduling => "access_scheduling",
            Perm::Settings => "settings",
            Perm::AccessMessageCenter => "access_message_center",
        }
    }

    /// The name the reference uses.
    pub fn title(self) -> &'static str {
        match self {
            Perm::AccessBilling => "Access Billing",
            Perm::ShowBillingTab => "Show Billing Tab",
            Perm::AccessPatientPayments => "Access Patient Payments",
            Perm::AccessClinicalNotes => "Access Clinical Notes",
            Perm::ManagePatients => "Manage Patients",
            Perm::AccessScheduling => "Access Scheduling",
            Perm::Settings => "Settings",
            Perm::AccessMessageCenter => "Access Message Center",
        }
    }

    /// The permissions object of a user with every permission (doctors get this).
    pub fn all_json() -> String {
        let map: serde_json::Map<String, serde_json::Value> = Perm::ALL
            .iter()
            .map(|p| (p.key().to_string(), true.into()))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    fn parse_set(json: &str) -> u32 {
        let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
        Perm::ALL
            .iter()
            .filter(|p| v.get(p.key()).and_then(|b| b.as_bool()).unwrap_or(false))
            .fold(0, |acc, p| acc | (1 << (*p as u32)))
    }
}

/// A practice group's sharing setting (columns `share_*` of practice_groups).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShareSetting {
    Patients,
    ClinicalTemplates,
    AppointmentProfiles,
    BillingProfiles,
    ConsentForms,
    Inventory,
    CustomInsurancePlanNames,
    FeeSchedules,
    ReminderProfiles,
    Faxes,
}

impl ShareSetting {
    pub const ALL: [ShareSetting; 10] = [
        ShareSetting::Patients,
        ShareSetting::ClinicalTemplates,
        ShareSetting::AppointmentProfiles,
        ShareSetting::BillingProfiles,
        ShareSetting::ConsentForms,
        ShareSetting::Inventory,
        ShareSetting::CustomInsurancePlanNames,
        ShareSetting::FeeSchedules,
        ShareSetting::ReminderProfiles,
        ShareSetting::Faxes,
    ];

    pub fn column(self) -> &'static str {
        match self {
            ShareSetting::Patients => "share_patients",
            ShareSetting::ClinicalTemplates => "share_clinical_templates",
            ShareSetting::AppointmentProfiles => "share_appointment_profiles",
            ShareSetting::BillingProfiles => "share_billing_profiles",
            ShareSetting::ConsentForms => "share_consent_forms",
            ShareSetting::Inventory => "share_inventory",
            ShareSetting::CustomInsurancePlanNames => "share_custom_insurance_plan_names",
            ShareSetting::FeeSchedules => "share_fee_schedules",
            ShareSetting::ReminderProfiles => "share_reminder_profiles",
            ShareSetting::Faxes => "share_faxes",
        }
    }
}

/// Who is calling: the token's user, practice group and application.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user_id: i64,
    /// The user's doctor: their own record for doctors, the primary physician for staff.
    pub doctor_id: i64,
    pub practice_group_id: i64,
    pub app_id: i64,
    pub is_doctor: bool,
    pub scopes: Scopes,
    /// When the token stops working.
    pub expires_at: chrono::NaiveDateTime,
    perms: u32,
    shares: u32,
}

impl AuthUser {
    pub fn has_perm(&self, p: Perm) -> bool {
        self.perms & (1 << (p as u32)) != 0
    }

    pub fn shares(&self, s: ShareSetting) -> bool {
        self.shares & (1 << (s as u32)) != 0
    }
}

/// SHA-256 hex of a token, as stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token: 43 letters and digits (256 bits).
pub fn new_token() -> String {
    // Letters and digits only (as DrChrono's ids): a value the CLI prints can be passed back
    // as an argument (one beginning with "-" would read as an option). 43 characters of 62
    // carry 256 bits.
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 43)
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
        Some(token.trim().to_string())
    } else {
        None
    }
}

const TOKEN_QUERY: &str = "SELECT a.user_id, a.app_id, a.scope, a.expires_at, a.revoked, \
    u.practice_group_id, u.doctor, u.is_doctor, u.permissions, u.archived, \
    g.share_patients, g.share_clinical_templates, g.share_appointment_profiles, \
    g.share_billing_profiles, g.share_consent_forms, g.share_inventory, \
    g.share_custom_insurance_plan_names, g.share_fee_schedules, g.share_reminder_profiles, \
    g.share_faxes \
    FROM access_tokens a JOIN users u ON u.id = a.user_id \
    JOIN practice_groups g ON g.id = u.practice_group_id WHERE a.token_hash = ?";

/// Resolved tokens remembered for a few seconds, so a call does not cost a token query.
/// Revoking through this process forgets the token at once; through another process it
/// stops working here when the entry ages out.
pub struct TokenCache {
    ttl: std::time::Duration,
    map: std::sync::RwLock<std::collections::HashMap<String, (std::time::Instant, AuthUser)>>,
}

impl TokenCache {
    const MAX_ENTRIES: usize = 100_000;

    pub fn new(ttl_secs: u64) -> TokenCache {
        TokenCache {
            ttl: std::time::Duration::from_secs(ttl_secs),
            map: Default::default(),
        }
    }

    fn get(&self, hash: &str) -> Option<AuthUser> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        let (at, user) = map.get(hash)?;
        (at.elapsed() < self.ttl && user.expires_at > Utc::now().naive_utc()).then(|| user.clone())
    }

    fn put(&self, hash: String, user: AuthUser) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::MAX_ENTRIES {
            map.clear();
        }
        map.insert(hash, (std::time::Instant::now(), user));
    }

    /// Forgets everything (after a revocation or a change of permissions in this process).
    pub fn clear(&self) {
        self.map.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Clears the cache when the returned guard drops, however the code in between ends.
    pub fn forget_on_drop(&self) -> impl Drop + '_ {
        struct Forget<'a>(&'a TokenCache);
        impl Drop for Forget<'_> {
            fn drop(&mut self) {
                self.0.clear();
            }
        }
        Forget(self)
    }
}

/// Resolves a bearer token, or answers 401.
pub async fn authenticate(state: &AppState, req: &HttpRequest) -> Result<AuthUser, ApiError> {
    let token = bearer(req).ok_or_else(|| {
        ApiError::Unauthorized("Authentication credentials were not provided.".into())
    })?;
    let hash = hash_token(&token);
    if let Some(user) = state.tokens.get(&hash) {
        return Ok(user);
    }
    let key = hash.clone();
    let row = state
        .db
        .run(move |conn| {
            let mut tys = vec![
                Ty::Int,
                Ty::Int,
                Ty::Text,
                Ty::Timestamp,
                Ty::Bool,
                Ty::Int,
                Ty::Int,
                Ty::Bool,
                Ty::Text,
                Ty::Bool,
            ];
            tys.extend([Ty::Bool; 10]);
            Ok(Sql::new(TOKEN_QUERY).bind(hash).load_one(conn, &tys)?)
        })
        .await?;
    let invalid = || ApiError::Unauthorized("Invalid or expired token.".into());
    let row = row.ok_or_else(invalid)?;
    let expired = row[3]
        .as_timestamp()
        .is_none_or(|t| t <= Utc::now().naive_utc());
    if expired || row[4].as_bool().unwrap_or(true) || row[9].as_bool().unwrap_or(true) {
        return Err(invalid());
    }
    let shares = ShareSetting::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| row[10 + i].as_bool().unwrap_or(false))
        .fold(0u32, |acc, (_, s)| acc | (1 << (*s as u32)));
    let user = AuthUser {
        expires_at: row[3].as_timestamp().unwrap_or_default(),
        user_id: row[0].as_i64().unwrap_or_default(),
        app_id: row[1].as_i64().unwrap_or_default(),
        scopes: Scopes::parse(row[2].as_str().unwrap_or("")).unwrap_or_default(),
        practice_group_id: row[5].as_i64().unwrap_or_default(),
        doctor_id: row[6].as_i64().unwrap_or_default(),
        is_doctor: row[7].as_bool().unwrap_or(false),
        perms: Perm::parse_set(row[8].as_str().unwrap_or("{}")),
        shares,
    };
    state.tokens.put(key, user.clone());
    Ok(user)
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<AuthUser, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if let Some(user) = req.extensions().get::<AuthUser>() {
                return Ok(user.clone());
            }
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?
                .clone();
            let user = authenticate(&state, &req).await?;
            req.extensions_mut().insert(user.clone());
            Ok(user)
        })
    }
}

/// 403 unless the token has every scope (for reading or writing) and the user every permission.
pub fn check_access(
    user: &AuthUser,
    scopes: &[Scope],
    perms: &[Perm],
    write: bool,
) -> Result<(), ApiError> {
    for s in scopes {
        if !user.scopes.allows(*s, write) {
            return Err(ApiError::Forbidden(format!(
                "This token lacks the '{}{}' scope.",
                s.as_str(),
                if write { ":write" } else { ":read" }
            )));
        }
    }
    for p in perms {
        if !user.has_perm(*p) {
            return Err(ApiError::Forbidden(format!(
                "You do not have the '{}' permission.",
                p.title()
            )));
        }
    }
    Ok(())
}
