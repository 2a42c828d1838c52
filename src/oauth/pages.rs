//! The HTML of the authorization pages: login, consent and error pages. Plain server-rendered
//! forms that work without JavaScript; every interpolated value is escaped. The pages may not
//! be framed (clickjacking of the Authorize button, RFC 6749 §10.13) nor cached.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}\
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;\
box-shadow:0 1px 4px rgba(0,0,0,.12)}h1{font-size:1.3rem;margin-top:0}\
label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;\
padding:.5rem;box-sizing:border-box}button{padding:.55rem 1.2rem;margin:1rem .5rem 0 0;\
font-size:1rem;cursor:pointer}.primary{background:#1a5fb4;color:#fff;border:0;border-radius:4px}\
.error{color:#a51d2d}ul{padding-left:1.2rem}li{margin:.3rem 0}.muted{color:#5e6673;font-size:.9rem}";

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · chartd</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n\
         </body>\n</html>\n",
        escape(title)
    )
}

/// An HTML answer with the headers every authorization page carries.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body)
}

/// An error page; `retry` is a link (to our own /o/authorize) to start again.
pub fn error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    retry: Option<&str>,
) -> HttpResponse {
    let mut body = format!(
        "<h1>{}</h1>\n<p class=\"error\">{}</p>\n",
        escape(title),
        escape(message)
    );
    if let Some(url) = retry {
        body.push_str(&format!(
            "<p><a href=\"{}\">Start again</a></p>\n",
            escape(url)
        ));
    }
    html(status, layout(title, &body))
}

/// 429 for a browser, with Retry-After.
pub fn throttled(retry_after: u64) -> HttpResponse {
    let mut res = error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &format!(
            "Too many sign-in attempts from your address. Try again in {retry_after} seconds."
        ),
        None,
    );
    if let Ok(v) = header::HeaderValue::from_str(&retry_after.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn hidden_fields(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                escape(name),
                escape(value)
            )
        })
        .collect()
}

/// The login form. `fields` are the authorization request's parameters, carried through.
pub fn login_page(app_name: &str, fields: &[(&str, &str)], csrf: &str, failed: bool) -> String {
    let error = if failed {
        "<p class=\"error\">Please enter a correct username and password. Both fields are \
         case-sensitive.</p>\n"
    } else {
        ""
    };
    let body = format!(
        "<h1>Sign in to chartd</h1>\n<p><strong>{app}</strong> asks to access your chartd \
         account. Sign in to review its request.</p>\n{error}\
         <form method=\"post\" action=\"/o/login\">\n\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\n{hidden}\
         <label for=\"username\">Username</label>\n\
         <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\n\
         <label for=\"password\">Password</label>\n\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\n\
         <button type=\"submit\" class=\"primary\">Sign in</button>\n</form>\n",
        app = escape(app_name),
        csrf = escape(csrf),
        hidden = hidden_fields(fields),
    );
    layout("Sign in", &body)
}

/// The consent form: the app, the signed-in user and each requested scope in plain words.
pub fn consent_page(
    app_name: &str,
    user: &str,
    scope: &str,
    fields: &[(&str, &str)],
    csrf: &str,
) -> String {
    let items: String = scope
        .split_whitespace()
        .map(|w| format!("<li>{}</li>\n", escape(&describe_scope(w))))
        .collect();
    let body = format!(
        "<h1>Authorize {app}?</h1>\n<p><strong>{app}</strong> asks to act on your behalf in \
         chartd, with access to:</p>\n<ul>\n{items}</ul>\n\
         <p class=\"muted\">Signed in as {user}. The application sees only what your own \
         permissions allow.</p>\n\
         <form method=\"post\" action=\"/o/authorize\">\n\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\n{hidden}\
         <button type=\"submit\" name=\"allow\" value=\"Authorize\" class=\"primary\">Authorize</button>\n\
         <button type=\"submit\" name=\"deny\" value=\"Deny\">Deny</button>\n</form>\n",
        app = escape(app_name),
        user = escape(user),
        csrf = escape(csrf),
        hidden = hidden_fields(fields),
    );
    layout(&format!("Authorize {app_name}"), &body)
}

/// One scope word in plain words.
pub fn describe_scope(word: &str) -> String {
    let (name, access) = if let Some(n) = word.strip_suffix(":read") {
        (n, "Read")
    } else if let Some(n) = word.strip_suffix(":write") {
        (n, "Create and change")
    } else {
        (word, "Read, create and change")
    };
    let what = match name {
        "user" => "your user account and your practice's doctors, users and offices",
        "calendar" => "appointments and the calendar",
        "patients" => "patient demographics and charts",
        "patients:summary" => "patient summaries: problems, medications, allergies",
        "clinical" => "clinical notes and clinical records",
        "billing" => "billing: line items, transactions and insurance",
        "billing:patient-payment" => "patient payments",
        "labs" => "lab orders and results",
        "messages" => "messages",
        "settings" => "practice settings",
        "tasks" => "tasks",
        other => other,
    };
    format!("{access} {what}")
}
