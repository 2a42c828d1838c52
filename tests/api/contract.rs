//! The contract every registered resource keeps, checked over the whole registry: lists
//! answer the paginated envelope (or a 400 naming a required filter), a missing token is 401,
//! a token without the resource's scopes is 403, verbs it does not allow are 405, an unknown
//! id is 404, and the OpenAPI document describes it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

#[tokio::test]
async fn every_resource_keeps_the_framework_contract() {
    let app = TestApp::new().await;
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // A token with the `user` scope only: resources that need other scopes must refuse it.
    let user_only = app.token_for(app.a.user, "user");
    for res in chartd::resources::ALL {
        let coll = format!("/api/{}", res.path);
        let item = format!("{coll}/987654321");
        let v = res.verbs;

        // Unauthenticated: 401 whatever the verb.
        let (status, _) = app.send(Method::GET, &coll, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{coll} without a token");

        if v.list {
            let (status, body) = app.get(&format!("{coll}?since=2000-01-01")).await;
            if status == StatusCode::OK {
                for key in ["next", "previous", "results"] {
                    assert!(body.get(key).is_some(), "{coll} answers {key}");
                }
            } else {
                // Some lists need a filter of their own (e.g. insurances need payer_type).
                assert_eq!(status, StatusCode::BAD_REQUEST, "{coll}: {body}");
            }
            let (status, body) = app.get(&format!("{coll}?page_size=banana")).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{coll}?page_size=banana: {body}"
            );
        } else {
            // No generic list: 405, unless the resource serves a list of its own (documented).
            let (status, _) = app.get(&coll).await;
            assert!(
                status == StatusCode::METHOD_NOT_ALLOWED || doc["paths"][&coll]["get"].is_object(),
                "{coll} has no list: {status}"
            );
        }
        if v.retrieve {
            let (status, _) = app.get(&item).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{item}");
        }
        for (allowed, method) in [
            (v.update, Method::PUT),
            (v.partial_update, Method::PATCH),
            (v.destroy, Method::DELETE),
        ] {
            let (status, _) = app
                .send(method.clone(), &item, Some(&app.token), Some(json!({})))
                .await;
            if allowed {
                assert_eq!(status, StatusCode::NOT_FOUND, "{method} {item}");
            } else {
                assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {item}");
            }
        }
        let needs_more_than_user = res.scopes.iter().any(|s| s.as_str() != "user");
        if needs_more_than_user && v.list {
            let (status, _) = app
                .get_as(&user_only, &format!("{coll}?since=2000-01-01"))
                .await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{coll} with the user scope only"
            );
        }
        assert!(
            doc["paths"].get(&coll).is_some()
                || doc["paths"].get(format!("{coll}/{{id}}")).is_some(),
            "{coll} documented"
        );
        assert!(
            doc["components"]["schemas"].get(res.name).is_some(),
            "schema {}",
            res.name
        );
    }
}
