//! One test binary: the real server over HTTP, on SQLite, or on PostgreSQL when
//! CHARTD_TEST_DATABASE_URL is set.

mod appointments;
mod billing;
mod billing_settings;
mod framework;
mod helpers;
mod ops;
mod patients;
mod practice;
mod ratelimit;
mod slots;
mod superbills;
