-- Labs (sublabs, orders and their summary view, documents, tests, results) and tasks
-- (categories, statuses, tasks, notes, templates) (SQLite).
-- Kept in step with ../../postgres/2026-11-21-000006_labs_tasks/up.sql.

CREATE TABLE sublabs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    name TEXT NOT NULL,
    facility_code TEXT NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sublabs_practice_group ON sublabs (practice_group_id, id);

CREATE TABLE lab_orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    sublab INTEGER NOT NULL REFERENCES sublabs(id),
    doctor INTEGER NOT NULL REFERENCES doctors(id),
    patient INTEGER NOT NULL REFERENCES patients(id),
    timestamp TIMESTAMP NOT NULL,
    status TEXT NOT NULL DEFAULT 'N',
    icd10_codes TEXT NOT NULL DEFAULT '[]',
    accession_number TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL DEFAULT 'NORMAL',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX lab_orders_practice_group ON lab_orders (practice_group_id, id);
CREATE INDEX lab_orders_created ON lab_orders (practice_group_id, created_at);
CREATE INDEX lab_orders_updated ON lab_orders (practice_group_id, updated_at);
CREATE INDEX lab_orders_doctor ON lab_orders (doctor, id);
CREATE INDEX lab_orders_patient ON lab_orders (patient, id);

-- /api/lab_orders_summary reads the orders through this view (its keys are derived there
-- and in the resource declaration).
CREATE VIEW lab_orders_summary AS
SELECT id, practice_group_id, sublab, doctor, patient, status, priority, notes,
       accession_number, archived, created_at, updated_at
FROM lab_orders;

CREATE TABLE lab_documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    lab_order INTEGER NOT NULL REFERENCES lab_orders(id),
    document TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL,
    timestamp TIMESTAMP NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX lab_documents_practice_group ON lab_documents (practice_group_id, id);
CREATE INDEX lab_documents_created ON lab_documents (practice_group_id, created_at);
CREATE INDEX lab_documents_lab_order ON lab_documents (lab_order, id);

CREATE TABLE lab_tests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    lab_order INTEGER NOT NULL REFERENCES lab_orders(id),
    code TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    collection_date TIMESTAMP,
    internal_notes TEXT NOT NULL DEFAULT '',
    report_notes TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'preliminary',
    specimen_source TEXT NOT NULL DEFAULT '',
    specimen_condition TEXT NOT NULL DEFAULT '',
    specimen_total_volume TEXT,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX lab_tests_practice_group ON lab_tests (practice_group_id, id);
CREATE INDEX lab_tests_lab_order ON lab_tests (lab_order, id);

CREATE TABLE lab_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    lab_order INTEGER NOT NULL REFERENCES lab_orders(id),
    document INTEGER NOT NULL REFERENCES lab_documents(id),
    lab_test INTEGER NOT NULL REFERENCES lab_tests(id),
    specimen_received TIMESTAMP NOT NULL,
    results_released TIMESTAMP NOT NULL,
    test_performed TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    value TEXT NOT NULL,
    abnormal_status TEXT NOT NULL DEFAULT '',
    is_abnormal BOOLEAN NOT NULL DEFAULT 0,
    normal_range TEXT NOT NULL DEFAULT '',
    observation_code TEXT NOT NULL DEFAULT '',
    observation_description TEXT NOT NULL DEFAULT '',
    group_code TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT '',
    value_is_numeric BOOLEAN NOT NULL DEFAULT 0,
    comments TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX lab_results_practice_group ON lab_results (practice_group_id, id);
CREATE INDEX lab_results_lab_order ON lab_results (lab_order, id);
CREATE INDEX lab_results_lab_test ON lab_results (lab_test, id);

CREATE TABLE task_categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    name TEXT NOT NULL,
    is_global BOOLEAN NOT NULL DEFAULT 0,
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX task_categories_practice_group ON task_categories (practice_group_id, id);
CREATE INDEX task_categories_updated ON task_categories (practice_group_id, updated_at);

CREATE TABLE task_statuses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    name TEXT NOT NULL,
    status_category TEXT NOT NULL DEFAULT 'O',
    task_category INTEGER REFERENCES task_categories(id),
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX task_statuses_practice_group ON task_statuses (practice_group_id, id);
CREATE INDEX task_statuses_updated ON task_statuses (practice_group_id, updated_at);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    title TEXT NOT NULL,
    status INTEGER NOT NULL REFERENCES task_statuses(id),
    category INTEGER REFERENCES task_categories(id),
    priority INTEGER,
    assignee_user INTEGER REFERENCES users(id),
    assignee_group INTEGER REFERENCES user_groups(id),
    assigned_by INTEGER NOT NULL REFERENCES users(id),
    created_by INTEGER NOT NULL REFERENCES users(id),
    due_date TEXT,
    due_at TIMESTAMP,
    associated_items TEXT NOT NULL DEFAULT '[]',
    notes TEXT NOT NULL DEFAULT '[]',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tasks_practice_group ON tasks (practice_group_id, id);
CREATE INDEX tasks_updated ON tasks (practice_group_id, updated_at);
CREATE INDEX tasks_due_at ON tasks (practice_group_id, due_at);
CREATE INDEX tasks_assignee_user ON tasks (assignee_user, id);
CREATE INDEX tasks_assignee_group ON tasks (assignee_group, id);
CREATE INDEX tasks_status ON tasks (status, id);
CREATE INDEX tasks_category ON tasks (category, id);

CREATE TABLE task_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    task INTEGER NOT NULL REFERENCES tasks(id),
    text TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX task_notes_practice_group ON task_notes (practice_group_id, id);
CREATE INDEX task_notes_updated ON task_notes (practice_group_id, updated_at);
CREATE INDEX task_notes_task ON task_notes (task, id);

CREATE TABLE task_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER NOT NULL REFERENCES practice_groups(id),
    name TEXT NOT NULL,
    default_assignee_group INTEGER REFERENCES user_groups(id),
    default_assignee_user INTEGER REFERENCES users(id),
    default_category INTEGER REFERENCES task_categories(id),
    default_due_date_offset TEXT NOT NULL DEFAULT '',
    default_note TEXT NOT NULL DEFAULT '',
    default_priority INTEGER,
    default_status INTEGER REFERENCES task_statuses(id),
    default_title TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX task_templates_practice_group ON task_templates (practice_group_id, id);
CREATE INDEX task_templates_updated ON task_templates (practice_group_id, updated_at);
CREATE INDEX task_templates_assignee_user ON task_templates (default_assignee_user, id);
CREATE INDEX task_templates_assignee_group ON task_templates (default_assignee_group, id);
CREATE INDEX task_templates_status ON task_templates (default_status, id);
CREATE INDEX task_templates_category ON task_templates (default_category, id);
