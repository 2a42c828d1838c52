//! /api/insurances: search for insurance payers ("Insurances"), GET only, to fill the
//! insurance objects of /api/patients. The payers are a list shipped with chartd
//! (`data/payers.csv`: payer_type, payer_id, payer_name, state), searched in memory.
//!
//! `payer_type` (emdeon, gateway or ihcfa) is required; `term` matches part of the name, part
//! of the payer id, or the state. Pages as every list does (`next` carries a cursor).

use std::sync::LazyLock;

use actix_web::{guard, web, HttpRequest, HttpResponse};

use crate::api::auth::{check_access, Scope};
use crate::api::fields::write_str;
use crate::api::filters::Params;
use crate::api::openapi::Paths;
use crate::api::pagination::{self, Page};
use crate::api::resource::{Field, Filter, Hooks, Kind, Resource, Verbs};
use crate::api::Compiled;
use crate::api::Ctx;
use crate::error::ApiError;

pub const PAYER_TYPES: &[&str] = &["emdeon", "gateway", "ihcfa"];

pub static RESOURCE: Resource = Resource {
    path: "insurances",
    name: "Insurance",
    doc: "An insurance payer available to the practice.",
    scopes: &[Scope::User],
    verbs: Verbs::NONE,
    hide_archived: false,
    fields: &[
        Field::string("payer_name")
            .read_only()
            .doc("The insurance_company of a patient's insurance object."),
        Field::string("payer_id")
            .read_only()
            .doc("The insurance_payer_id of a patient's insurance object."),
        Field::string("state")
            .read_only()
            .nullable()
            .doc("Two-letter abbreviation of the payer's headquarters' state."),
    ],
    filters: &[
        Filter::eq("payer_type", Kind::Choice(PAYER_TYPES))
            .doc("Required: emdeon, gateway or ihcfa."),
        Filter::icontains("term").doc("Part of the payer's name, part of its id, or its state."),
    ],
    hooks: &InsuranceHooks,
    ..Resource::DEFAULT
};

/// One row of data/payers.csv.
pub struct Payer {
    pub payer_type: &'static str,
    pub payer_id: &'static str,
    pub payer_name: &'static str,
    pub state: &'static str,
}

static PAYERS: LazyLock<Vec<Payer>> = LazyLock::new(|| {
    include_str!("../../data/payers.csv")
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut cols = line.splitn(4, ',').map(str::trim);
            let mut next = || cols.next().unwrap_or("");
            Payer {
                payer_type: next(),
                payer_id: next(),
                payer_name: next(),
                state: next(),
            }
        })
        .collect()
});

impl Payer {
    fn matches(&self, term: &str) -> bool {
        term.is_empty()
            || self.payer_name.to_lowercase().contains(term)
            || self.payer_id.to_lowercase().contains(term)
            || self.state.eq_ignore_ascii_case(term)
    }

    fn write(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(b"{\"payer_name\":");
        write_str(buf, self.payer_name);
        buf.extend_from_slice(b",\"payer_id\":");
        write_str(buf, self.payer_id);
        buf.extend_from_slice(b",\"state\":");
        if self.state.is_empty() {
            buf.extend_from_slice(b"null");
        } else {
            write_str(buf, self.state);
        }
        buf.push(b'}');
    }
}

/// GET /api/insurances?payer_type=...&term=...
async fn search(ctx: Ctx, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    check_access(&ctx.user, RESOURCE.scopes, RESOURCE.permissions, false)?;
    let params = Params::parse(req.query_string());
    let payer_type = match params.get("payer_type") {
        None | Some("") => {
            return Err(ApiError::field("payer_type", "This parameter is required."))
        }
        Some(t) if PAYER_TYPES.contains(&t) => t.to_string(),
        Some(t) => {
            return Err(ApiError::field(
                "payer_type",
                format!(
                "\"{t}\" is not a valid choice. Valid choices: \"emdeon\", \"gateway\", \"ihcfa\"."
            ),
            ))
        }
    };
    let term = params.get("term").unwrap_or("").trim().to_lowercase();
    let page = Page::from_params(&params, RESOURCE.page_size)?;
    // Positions in the list (1-based) stand for ids: they order pages and are the cursors.
    let found = PAYERS
        .iter()
        .enumerate()
        .filter(|(_, p)| p.payer_type == payer_type && p.matches(&term))
        .map(|(i, p)| (i as i64 + 1, p));
    let take = (page.size + 1) as usize;
    let rows: Vec<(i64, &Payer)> = match (params.positive("after")?, params.positive("before")?) {
        (Some(a), _) => found.filter(|(i, _)| *i > a).take(take).collect(),
        (None, Some(b)) => {
            let mut before: Vec<_> = found.filter(|(i, _)| *i < b).collect();
            before.reverse();
            before.truncate(take);
            before
        }
        (None, None) => found
            .skip(((page.number - 1) * page.size) as usize)
            .take(take)
            .collect(),
    };
    let (rows, links) = page.links(rows, |r| r.0);
    let mut buf = Vec::with_capacity(64 + rows.len() * 96);
    let base = ctx.url("/api/insurances");
    pagination::write_envelope(&mut buf, &base, &params, &links, |buf| {
        for (i, (_, payer)) in rows.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            payer.write(buf);
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(buf))
}

struct InsuranceHooks;

impl Hooks for InsuranceHooks {
    fn extra_routes(&self, _c: &'static Compiled, cfg: &mut web::ServiceConfig) {
        // Ahead of the generic routes, which answer 405 to every other verb.
        cfg.service(
            web::resource("")
                .guard(guard::Get())
                .route(web::get().to(search)),
        );
    }

    fn extra_openapi(&self, res: &'static Resource, paths: &mut Paths) {
        crate::api::openapi::add_list(paths, res, "Search insurance payers");
    }
}
