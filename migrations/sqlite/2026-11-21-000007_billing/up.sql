-- Billing: line items (procedures are a view of them), insurance transactions, patient
-- payments and their log, billing profiles, fee schedules, custom insurance plan names and
-- superbills (SQLite). Kept in step with ../../postgres/2026-11-21-000007_billing/up.sql.
-- Money is BIGINT cents; quantities are hundredths.

CREATE TABLE line_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    appointment INTEGER NOT NULL REFERENCES appointments(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    -- The appointment's patient, copied when the line item is created.
    patient INTEGER NOT NULL REFERENCES patients(id),
    code TEXT NOT NULL,
    -- One letter: C (CPT), H (HCPCS), U (custom).
    procedure_type TEXT NOT NULL,
    modifiers TEXT NOT NULL DEFAULT '[]',
    diagnosis_pointers TEXT NOT NULL DEFAULT '[]',
    price INTEGER NOT NULL,
    quantity INTEGER NOT NULL DEFAULT 100,
    billed INTEGER NOT NULL,
    allowed INTEGER,
    units TEXT NOT NULL DEFAULT 'UN',
    service_date DATE NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    expected_reimbursement INTEGER,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX line_items_practice_group ON line_items (practice_group_id, id);
CREATE INDEX line_items_updated ON line_items (practice_group_id, updated_at);
CREATE INDEX line_items_created ON line_items (practice_group_id, created_at);
CREATE INDEX line_items_service_date ON line_items (practice_group_id, service_date);
CREATE INDEX line_items_appointment ON line_items (appointment);
CREATE INDEX line_items_patient ON line_items (patient);
CREATE INDEX line_items_doctor ON line_items (doctor, id);

CREATE TABLE transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    line_item INTEGER NOT NULL REFERENCES line_items(id),
    -- The line item's appointment, patient and doctor, copied when the transaction is posted.
    appointment INTEGER NOT NULL REFERENCES appointments(id),
    patient INTEGER NOT NULL REFERENCES patients(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    ins_paid INTEGER NOT NULL DEFAULT 0,
    ins_name INTEGER NOT NULL DEFAULT 1,
    adjustment INTEGER NOT NULL DEFAULT 0,
    adjustment_group_code TEXT NOT NULL DEFAULT '',
    adjustment_reason TEXT NOT NULL DEFAULT '',
    check_date DATE,
    claim_status TEXT NOT NULL DEFAULT '',
    trace_number TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX transactions_practice_group ON transactions (practice_group_id, id);
CREATE INDEX transactions_updated ON transactions (practice_group_id, updated_at);
CREATE INDEX transactions_created ON transactions (practice_group_id, created_at);
CREATE INDEX transactions_line_item ON transactions (line_item);
CREATE INDEX transactions_appointment ON transactions (appointment);

CREATE TABLE patient_payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    patient INTEGER NOT NULL REFERENCES patients(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    appointment INTEGER REFERENCES appointments(id),
    line_item INTEGER REFERENCES line_items(id),
    amount INTEGER NOT NULL CHECK (amount <> 0),
    notes TEXT NOT NULL DEFAULT '',
    payment_transaction_type TEXT NOT NULL DEFAULT '',
    payment_method TEXT NOT NULL DEFAULT '',
    posted_date DATE NOT NULL,
    received_date DATE,
    trace_number TEXT NOT NULL DEFAULT '',
    created_by INTEGER NOT NULL REFERENCES users(id),
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX patient_payments_practice_group ON patient_payments (practice_group_id, id);
CREATE INDEX patient_payments_updated ON patient_payments (practice_group_id, updated_at);
CREATE INDEX patient_payments_patient ON patient_payments (patient);
CREATE INDEX patient_payments_doctor ON patient_payments (doctor, id);
CREATE INDEX patient_payments_line_item ON patient_payments (line_item);

CREATE TABLE patient_payment_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    patient_payment INTEGER NOT NULL REFERENCES patient_payments(id),
    patient INTEGER NOT NULL REFERENCES patients(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    appointment INTEGER REFERENCES appointments(id),
    office INTEGER REFERENCES offices(id),
    amount INTEGER NOT NULL,
    payment_method TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id),
    action TEXT NOT NULL,
    source TEXT NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX patient_payment_log_practice_group ON patient_payment_log (practice_group_id, id);
CREATE INDEX patient_payment_log_updated ON patient_payment_log (practice_group_id, updated_at);
CREATE INDEX patient_payment_log_doctor ON patient_payment_log (doctor, id);
CREATE INDEX patient_payment_log_office ON patient_payment_log (office, id);
CREATE INDEX patient_payment_log_payment ON patient_payment_log (patient_payment);

CREATE TABLE billing_profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    name TEXT NOT NULL,
    cpt_codes TEXT NOT NULL DEFAULT '[]',
    hcpcs_codes TEXT NOT NULL DEFAULT '[]',
    custom_procedure_codes TEXT NOT NULL DEFAULT '[]',
    icd9_codes TEXT NOT NULL DEFAULT '[]',
    icd10_codes TEXT NOT NULL DEFAULT '[]',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX billing_profiles_practice_group ON billing_profiles (practice_group_id, id);
CREATE INDEX billing_profiles_doctor ON billing_profiles (doctor, id);

CREATE TABLE fee_schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    code TEXT NOT NULL,
    code_type TEXT NOT NULL,
    cpt_hcpcs_modifier1 TEXT NOT NULL DEFAULT '',
    cpt_hcpcs_modifier2 TEXT NOT NULL DEFAULT '',
    cpt_hcpcs_modifier3 TEXT NOT NULL DEFAULT '',
    cpt_hcpcs_modifier4 TEXT NOT NULL DEFAULT '',
    office INTEGER REFERENCES offices(id),
    ndc_code TEXT NOT NULL DEFAULT '',
    ndc_quantity INTEGER NOT NULL DEFAULT 0,
    ndc_units TEXT NOT NULL DEFAULT '',
    base_price INTEGER NOT NULL DEFAULT 0,
    insured_price INTEGER NOT NULL DEFAULT 0,
    cash_price INTEGER NOT NULL DEFAULT 0,
    insured_out_of_network_price INTEGER,
    payer_id TEXT NOT NULL DEFAULT '',
    plan_name TEXT NOT NULL DEFAULT '',
    allowed_amount INTEGER NOT NULL DEFAULT 0,
    billing_description TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    picklist_category TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX fee_schedules_practice_group ON fee_schedules (practice_group_id, id);
CREATE INDEX fee_schedules_updated ON fee_schedules (practice_group_id, updated_at);
CREATE INDEX fee_schedules_code ON fee_schedules (practice_group_id, code);
CREATE INDEX fee_schedules_doctor ON fee_schedules (doctor, id);

CREATE TABLE custom_insurance_plan_names (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    "user" INTEGER NOT NULL REFERENCES users(id),
    insurance_plan_name TEXT NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX custom_insurance_plan_names_practice_group ON custom_insurance_plan_names (practice_group_id, id);
CREATE INDEX custom_insurance_plan_names_updated ON custom_insurance_plan_names (practice_group_id, updated_at);

CREATE TABLE superbills (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    appointment INTEGER NOT NULL UNIQUE REFERENCES appointments(id),
    patient INTEGER NOT NULL REFERENCES patients(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    office INTEGER NOT NULL REFERENCES offices(id),
    date_of_service DATE NOT NULL,
    status TEXT NOT NULL DEFAULT 'Draft',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX superbills_practice_group ON superbills (practice_group_id, id);
CREATE INDEX superbills_updated ON superbills (practice_group_id, updated_at);
CREATE INDEX superbills_patient ON superbills (patient);
CREATE INDEX superbills_date ON superbills (practice_group_id, date_of_service);
