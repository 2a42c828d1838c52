-- The practice model, apps and tokens, the audit trail and patients (SQLite).
-- Kept in step with ../../postgres/2026-11-21-000001_foundation/up.sql.

CREATE TABLE practice_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    share_patients BOOLEAN NOT NULL DEFAULT 1,
    share_clinical_templates BOOLEAN NOT NULL DEFAULT 1,
    share_appointment_profiles BOOLEAN NOT NULL DEFAULT 1,
    share_billing_profiles BOOLEAN NOT NULL DEFAULT 1,
    share_consent_forms BOOLEAN NOT NULL DEFAULT 1,
    share_inventory BOOLEAN NOT NULL DEFAULT 1,
    share_custom_insurance_plan_names BOOLEAN NOT NULL DEFAULT 1,
    share_fee_schedules BOOLEAN NOT NULL DEFAULT 1,
    share_reminder_profiles BOOLEAN NOT NULL DEFAULT 1,
    share_faxes BOOLEAN NOT NULL DEFAULT 1,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE doctors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    suffix TEXT NOT NULL DEFAULT '',
    specialty TEXT NOT NULL DEFAULT '',
    job_title TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT 'US',
    timezone TEXT NOT NULL DEFAULT 'America/New_York',
    email TEXT NOT NULL DEFAULT '',
    cell_phone TEXT NOT NULL DEFAULT '',
    home_phone TEXT NOT NULL DEFAULT '',
    office_phone TEXT NOT NULL DEFAULT '',
    website TEXT NOT NULL DEFAULT '',
    npi_number TEXT NOT NULL DEFAULT '',
    group_npi_number TEXT NOT NULL DEFAULT '',
    profile_picture TEXT NOT NULL DEFAULT '',
    is_account_suspended BOOLEAN NOT NULL DEFAULT 0,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX doctors_practice_group ON doctors (practice_group_id, id);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    is_doctor BOOLEAN NOT NULL,
    is_staff BOOLEAN NOT NULL,
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    plan_type TEXT NOT NULL DEFAULT 'complete',
    permissions TEXT NOT NULL DEFAULT '{}',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_practice_group ON users (practice_group_id, id);

CREATE TABLE user_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    name TEXT NOT NULL,
    members TEXT NOT NULL DEFAULT '[]',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX user_groups_practice_group ON user_groups (practice_group_id, id);

CREATE TABLE offices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    name TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT '',
    zip_code TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT 'US',
    phone_number TEXT NOT NULL DEFAULT '',
    fax_number TEXT NOT NULL DEFAULT '',
    start_time TEXT NOT NULL DEFAULT '00:00:00',
    end_time TEXT NOT NULL DEFAULT '24:00:00',
    online_scheduling BOOLEAN NOT NULL DEFAULT 0,
    online_timeslots TEXT NOT NULL DEFAULT '[]',
    exam_rooms TEXT NOT NULL DEFAULT '[]',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX offices_practice_group ON offices (practice_group_id, id);

CREATE TABLE apps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    client_secret_hash TEXT NOT NULL,
    redirect_uris TEXT NOT NULL DEFAULT '[]',
    rate_limit_per_hour INTEGER,
    iframe_patient_url TEXT NOT NULL DEFAULT '',
    iframe_clinical_note_url TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE access_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    refresh_hash TEXT UNIQUE,
    app_id INTEGER NOT NULL REFERENCES apps(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    scope TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TIMESTAMP NOT NULL,
    practice_group_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    app_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    object_id INTEGER,
    object_ids TEXT,
    remote_addr TEXT NOT NULL DEFAULT '',
    request_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_object ON audit_log (resource, object_id);
CREATE INDEX audit_log_practice_group ON audit_log (practice_group_id, at);

CREATE TABLE patients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    chart_id TEXT NOT NULL DEFAULT '',
    first_name TEXT NOT NULL DEFAULT '',
    middle_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    nick_name TEXT NOT NULL DEFAULT '',
    date_of_birth DATE,
    gender TEXT NOT NULL,
    ethnicity TEXT NOT NULL DEFAULT 'blank',
    race TEXT NOT NULL DEFAULT 'blank',
    preferred_language TEXT NOT NULL DEFAULT 'blank',
    patient_status TEXT NOT NULL DEFAULT 'A',
    patient_payment_profile TEXT NOT NULL DEFAULT '',
    social_security_number TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    home_phone TEXT NOT NULL DEFAULT '',
    cell_phone TEXT NOT NULL DEFAULT '',
    office_phone TEXT NOT NULL DEFAULT '',
    disable_sms_messages BOOLEAN NOT NULL DEFAULT 0,
    address TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT '',
    zip_code TEXT NOT NULL DEFAULT '',
    emergency_contact_name TEXT NOT NULL DEFAULT '',
    emergency_contact_phone TEXT NOT NULL DEFAULT '',
    emergency_contact_relation TEXT NOT NULL DEFAULT '',
    employer TEXT NOT NULL DEFAULT '',
    employer_address TEXT NOT NULL DEFAULT '',
    employer_city TEXT NOT NULL DEFAULT '',
    employer_state TEXT NOT NULL DEFAULT '',
    employer_zip_code TEXT NOT NULL DEFAULT '',
    default_pharmacy TEXT NOT NULL DEFAULT '',
    primary_care_physician TEXT NOT NULL DEFAULT '',
    referring_source TEXT NOT NULL DEFAULT '',
    responsible_party_name TEXT NOT NULL DEFAULT '',
    responsible_party_relation TEXT NOT NULL DEFAULT '',
    responsible_party_phone TEXT NOT NULL DEFAULT '',
    responsible_party_email TEXT NOT NULL DEFAULT '',
    patient_photo TEXT NOT NULL DEFAULT '',
    patient_photo_date DATE,
    primary_insurance TEXT NOT NULL DEFAULT '{}',
    secondary_insurance TEXT NOT NULL DEFAULT '{}',
    tertiary_insurance TEXT NOT NULL DEFAULT '{}',
    auto_accident_insurance TEXT NOT NULL DEFAULT '{}',
    workers_comp_insurance TEXT NOT NULL DEFAULT '{}',
    referring_doctor TEXT NOT NULL DEFAULT '{}',
    custom_demographics TEXT NOT NULL DEFAULT '[]',
    patient_flags_attached TEXT NOT NULL DEFAULT '[]',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX patients_practice_group ON patients (practice_group_id, id);
CREATE INDEX patients_updated ON patients (practice_group_id, updated_at);
CREATE INDEX patients_doctor ON patients (doctor, id);
