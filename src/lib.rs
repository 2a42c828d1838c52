//! chartd: an EHR REST/JSON API server in the DrChrono v4 style.

pub mod admin;
pub mod api;
pub mod app;
pub mod db;
pub mod domain;
pub mod error;
pub mod middleware;
pub mod oauth;
pub mod openapi;
pub mod ratelimit;
pub mod resources;
pub mod settings;
pub mod state;
pub mod telemetry;
pub mod throttle;
pub mod webhooks;
