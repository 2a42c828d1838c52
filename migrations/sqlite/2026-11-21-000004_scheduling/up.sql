-- Scheduling: appointments and what they are built from (profiles, templates, reminder
-- profiles, custom fields and vitals), patient flag types, custom demographics, and external
-- ids on patients and appointments (SQLite). Kept in step with the postgres directory.

ALTER TABLE patients ADD COLUMN external_id TEXT;
-- Kept by the server: offices of the patient's appointments, flags with their types.
ALTER TABLE patients ADD COLUMN offices TEXT NOT NULL DEFAULT '[]';
ALTER TABLE patients ADD COLUMN patient_flags TEXT NOT NULL DEFAULT '[]';
CREATE UNIQUE INDEX patients_external_id ON patients (practice_group_id, external_id);

CREATE TABLE appointment_profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    name TEXT NOT NULL,
    color TEXT NOT NULL DEFAULT '',
    duration INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    online_scheduling BOOLEAN NOT NULL DEFAULT 0,
    sort_order INTEGER,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX appointment_profiles_practice_group ON appointment_profiles (practice_group_id, id);

CREATE TABLE reminder_profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    name TEXT NOT NULL,
    reminders TEXT NOT NULL DEFAULT '[]',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX reminder_profiles_practice_group ON reminder_profiles (practice_group_id, id);

CREATE TABLE appointments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    patient INTEGER REFERENCES patients(id),
    office INTEGER NOT NULL REFERENCES offices(id),
    exam_room INTEGER NOT NULL,
    scheduled_time TIMESTAMP NOT NULL,
    duration INTEGER NOT NULL,
    -- scheduled_time + duration, kept by the server: overlap checks compare intervals.
    ends_at TIMESTAMP NOT NULL,
    profile INTEGER REFERENCES appointment_profiles(id),
    color TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    status_transitions TEXT NOT NULL DEFAULT '[]',
    vitals TEXT NOT NULL DEFAULT '{}',
    custom_vitals TEXT NOT NULL DEFAULT '[]',
    custom_fields TEXT NOT NULL DEFAULT '[]',
    reminders TEXT NOT NULL DEFAULT '[]',
    supervising_provider INTEGER,
    billing_status TEXT NOT NULL DEFAULT '',
    billing_provider INTEGER,
    billing_notes TEXT NOT NULL DEFAULT '[]',
    icd10_codes TEXT NOT NULL DEFAULT '',
    icd9_codes TEXT NOT NULL DEFAULT '',
    first_billed_date TIMESTAMP,
    last_billed_date TIMESTAMP,
    deleted_flag BOOLEAN NOT NULL DEFAULT 0,
    primary_insurer_payer_id TEXT NOT NULL DEFAULT '',
    primary_insurer_name TEXT NOT NULL DEFAULT '',
    primary_insurance_id_number TEXT NOT NULL DEFAULT '',
    secondary_insurer_payer_id TEXT NOT NULL DEFAULT '',
    secondary_insurer_name TEXT NOT NULL DEFAULT '',
    secondary_insurance_id_number TEXT NOT NULL DEFAULT '',
    allow_overlapping BOOLEAN NOT NULL DEFAULT 0,
    appt_is_break BOOLEAN NOT NULL DEFAULT 0,
    cloned_from INTEGER,
    recurring_appointment BOOLEAN NOT NULL DEFAULT 0,
    base_recurring_appointment INTEGER,
    is_walk_in BOOLEAN NOT NULL DEFAULT 0,
    is_virtual_base BOOLEAN NOT NULL DEFAULT 0,
    external_id TEXT,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX appointments_practice_group ON appointments (practice_group_id, id);
CREATE INDEX appointments_updated ON appointments (practice_group_id, updated_at);
CREATE INDEX appointments_doctor_time ON appointments (doctor, scheduled_time);
CREATE INDEX appointments_practice_time ON appointments (practice_group_id, scheduled_time);
CREATE INDEX appointments_office_time ON appointments (office, exam_room, scheduled_time);
CREATE INDEX appointments_patient ON appointments (patient);
CREATE UNIQUE INDEX appointments_external_id ON appointments (practice_group_id, external_id);

CREATE TABLE appointment_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    office INTEGER NOT NULL REFERENCES offices(id),
    profile INTEGER NOT NULL REFERENCES appointment_profiles(id),
    exam_room INTEGER NOT NULL,
    scheduled_time TEXT NOT NULL,
    duration INTEGER NOT NULL,
    week_days TEXT NOT NULL DEFAULT '[]',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX appointment_templates_practice_group ON appointment_templates (practice_group_id, id);
CREATE INDEX appointment_templates_office ON appointment_templates (office, doctor);

CREATE TABLE custom_appointment_fields (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    field_name TEXT NOT NULL,
    field_desc TEXT NOT NULL DEFAULT '',
    "order" INTEGER NOT NULL DEFAULT 0,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX custom_appointment_fields_practice_group ON custom_appointment_fields (practice_group_id, id);

CREATE TABLE custom_vitals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    name TEXT NOT NULL,
    data_type TEXT NOT NULL DEFAULT 'text',
    is_fraction_field BOOLEAN NOT NULL DEFAULT 0,
    fraction_delimiter TEXT NOT NULL DEFAULT '',
    allowed_values TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX custom_vitals_practice_group ON custom_vitals (practice_group_id, id);

CREATE TABLE patient_flag_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    name TEXT NOT NULL DEFAULT '',
    color TEXT NOT NULL DEFAULT '',
    priority INTEGER,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX patient_flag_types_practice_group ON patient_flag_types (practice_group_id, id);

CREATE TABLE custom_demographics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    name TEXT NOT NULL,
    template_name TEXT NOT NULL DEFAULT '',
    allowed_values TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX custom_demographics_practice_group ON custom_demographics (practice_group_id, id);
