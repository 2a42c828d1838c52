//! One test binary: the real server over HTTP, on SQLite, or on PostgreSQL when
//! CHARTD_TEST_DATABASE_URL is set.

mod allergies;
mod amendments;
mod appointments;
mod bad_input;
mod billing;
mod billing_settings;
mod clinical_notes;
mod contract;
mod documents;
mod framework;
mod helpers;
mod iframe;
mod labs;
mod medications;
mod nested;
mod oauth;
mod ops;
mod patients;
mod practice;
mod problems;
mod ratelimit;
mod receiver;
mod references;
mod slots;
mod superbills;
mod tasks;
mod throttle;
mod webhook_delivery;
mod webhooks;
