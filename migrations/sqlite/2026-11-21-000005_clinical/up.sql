-- Clinical records: clinical note templates, their field types and the values charted on an
-- appointment, each appointment's clinical note state (lock, derived sections), allergies,
-- medications, problems, amendments and documents (SQLite). Kept in step with the postgres
-- directory.

CREATE TABLE clinical_note_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    name TEXT NOT NULL,
    is_onpatient BOOLEAN NOT NULL DEFAULT 0,
    is_persistent BOOLEAN NOT NULL DEFAULT 0,
    "order" TEXT NOT NULL DEFAULT '{}',
    -- The template's field types as JSON, kept by the server whenever one changes.
    clinical_note_fields TEXT NOT NULL DEFAULT '[]',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX clinical_note_templates_practice_group ON clinical_note_templates (practice_group_id, id);
CREATE INDEX clinical_note_templates_doctor ON clinical_note_templates (doctor);

CREATE TABLE clinical_note_field_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    clinical_note_template INTEGER NOT NULL REFERENCES clinical_note_templates(id),
    name TEXT NOT NULL,
    data_type TEXT NOT NULL DEFAULT '',
    required BOOLEAN NOT NULL DEFAULT 0,
    allowed_values TEXT NOT NULL DEFAULT '[]',
    comment TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX clinical_note_field_types_practice_group ON clinical_note_field_types (practice_group_id, id);
CREATE INDEX clinical_note_field_types_template ON clinical_note_field_types (clinical_note_template);

CREATE TABLE clinical_note_field_values (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    appointment INTEGER NOT NULL REFERENCES appointments(id),
    clinical_note_field INTEGER NOT NULL REFERENCES clinical_note_field_types(id),
    value TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX clinical_note_field_values_practice_group ON clinical_note_field_values (practice_group_id, id);
CREATE INDEX clinical_note_field_values_updated ON clinical_note_field_values (practice_group_id, updated_at);
CREATE UNIQUE INDEX clinical_note_field_values_appointment ON clinical_note_field_values (appointment, clinical_note_field);
CREATE INDEX clinical_note_field_values_field ON clinical_note_field_values (clinical_note_field);

-- One row per appointment that has been charted or locked: /api/clinical_notes reads the
-- appointments table and takes the note's own state from here.
CREATE TABLE clinical_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    appointment INTEGER NOT NULL UNIQUE REFERENCES appointments(id),
    locked BOOLEAN NOT NULL DEFAULT 0,
    locked_by INTEGER REFERENCES users(id),
    locked_at TIMESTAMP,
    unlocked_by INTEGER REFERENCES users(id),
    unlocked_at TIMESTAMP,
    -- Derived JSON, rewritten whenever a value, the lock or a template name changes:
    -- sections without values, sections with values, and the appointment's clinical_note.
    sections TEXT NOT NULL DEFAULT '[]',
    sections_values TEXT NOT NULL DEFAULT '[]',
    summary TEXT NOT NULL DEFAULT 'null',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX clinical_notes_practice_group ON clinical_notes (practice_group_id, id);

CREATE TABLE allergies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    patient INTEGER NOT NULL REFERENCES patients(id),
    description TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    reaction TEXT NOT NULL DEFAULT '',
    rxnorm TEXT NOT NULL DEFAULT '',
    snomed_reaction TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX allergies_practice_group ON allergies (practice_group_id, id);
CREATE INDEX allergies_patient ON allergies (patient);

CREATE TABLE medications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    patient INTEGER NOT NULL REFERENCES patients(id),
    appointment INTEGER REFERENCES appointments(id),
    name TEXT NOT NULL DEFAULT '',
    daw BOOLEAN NOT NULL DEFAULT 0,
    prn BOOLEAN NOT NULL DEFAULT 0,
    date_prescribed DATE,
    date_started_taking DATE,
    date_stopped_taking DATE,
    -- Cents: a decimal with two places.
    dispense_quantity INTEGER,
    dosage_quantity TEXT NOT NULL DEFAULT '',
    dosage_units TEXT NOT NULL DEFAULT '',
    ndc TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    frequency TEXT NOT NULL DEFAULT '',
    indication TEXT NOT NULL DEFAULT '',
    number_refills INTEGER,
    order_status TEXT NOT NULL DEFAULT '',
    pharmacy_note TEXT NOT NULL DEFAULT '',
    route TEXT NOT NULL DEFAULT '',
    rxnorm TEXT NOT NULL DEFAULT '',
    signature_note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX medications_practice_group ON medications (practice_group_id, id);
CREATE INDEX medications_patient ON medications (patient);

CREATE TABLE problems (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    patient INTEGER NOT NULL REFERENCES patients(id),
    icd_version INTEGER NOT NULL DEFAULT 10,
    icd_code TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    date_changed DATE,
    date_diagnosis DATE,
    date_onset DATE,
    status TEXT NOT NULL DEFAULT 'active',
    snomed_ct_code TEXT NOT NULL DEFAULT '',
    -- Derived from icd_code and icd_version by the server.
    info_url TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX problems_practice_group ON problems (practice_group_id, id);
CREATE INDEX problems_patient ON problems (patient);

CREATE TABLE amendments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    -- The API application that created it: only that application sees it.
    app_id INTEGER NOT NULL REFERENCES apps(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    patient INTEGER NOT NULL REFERENCES patients(id),
    appointment INTEGER REFERENCES appointments(id),
    amendment_name TEXT NOT NULL,
    amendment_file TEXT NOT NULL DEFAULT '',
    comments TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX amendments_practice_group ON amendments (practice_group_id, app_id, id);
CREATE INDEX amendments_patient ON amendments (patient);
CREATE INDEX amendments_appointment ON amendments (appointment);

CREATE TABLE documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    patient INTEGER NOT NULL REFERENCES patients(id),
    date DATE NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    document TEXT NOT NULL DEFAULT '',
    metatags TEXT NOT NULL DEFAULT '[]',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX documents_practice_group ON documents (practice_group_id, id);
CREATE INDEX documents_updated ON documents (practice_group_id, updated_at);
CREATE INDEX documents_patient ON documents (patient);
CREATE INDEX documents_doctor ON documents (doctor);
