//! One test binary: the real server over HTTP, on SQLite, or on PostgreSQL when
//! CHARTD_TEST_DATABASE_URL is set.

mod framework;
mod helpers;
mod iframe;
mod oauth;
mod ops;
mod practice;
