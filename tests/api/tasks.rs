//! Tasks through HTTP: every documented filter returning exactly the right tasks, the
//! assignee and priority rules, created_by/assigned_by from the token, due dates, associated
//! items, notes; task categories, statuses, notes and templates; practice isolation.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use chartd::db::Val;

fn ids(body: &Value) -> Vec<i64> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {body}"))
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect()
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id: {v}"))
}

async fn created(app: &TestApp, path: &str, body: Value) -> i64 {
    let (status, out) = app.post(path, body).await;
    assert_eq!(status, StatusCode::CREATED, "POST {path}: {out}");
    id(&out)
}

/// A user group of practice A holding `members`.
fn user_group(app: &TestApp, members: &[i64]) -> i64 {
    let now = chrono::Utc::now().naive_utc();
    app.sql(
        "INSERT INTO user_groups (practice_group_id, name, members, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        vec![Val::from(app.a.id), Val::from("Front desk"), Val::from(json!(members).to_string()), now.into(), now.into()],
    );
    app.count("SELECT MAX(id) FROM user_groups", vec![])
}

struct Setup {
    open: i64,
    done: i64,
    c1: i64,
    c2: i64,
    u2: i64,
    group: i64,
}

async fn setup(app: &TestApp) -> Setup {
    let c1 = created(app, "/api/task_categories", json!({"name": "Refills"})).await;
    let c2 = created(app, "/api/task_categories", json!({"name": "Labs"})).await;
    let open = created(app, "/api/task_statuses", json!({"name": "Open"})).await;
    let done = created(
        app,
        "/api/task_statuses",
        json!({"name": "Done", "status_category": "C"}),
    )
    .await;
    let (u2, _) = app.user(app.a.id, "staff", Some(app.a.doctor));
    let group = user_group(app, &[app.a.user, u2]);
    Setup {
        open,
        done,
        c1,
        c2,
        u2,
        group,
    }
}

#[tokio::test]
async fn each_task_filter_returns_exactly_the_right_tasks() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let me = app.a.user;
    let t1 = created(&app, "/api/tasks", json!({"title": "Refill", "status": s.open, "assignee_user": me, "category": s.c1, "priority": 30, "due_date": {"time": "2024-05-01T10:00:00"}})).await;
    let t2 = created(&app, "/api/tasks", json!({"title": "Review labs", "status": s.done, "assignee_user": s.u2, "category": s.c2, "due_date": {"time": "2024-05-03T23:30:00"}})).await;
    let t3 = created(
        &app,
        "/api/tasks",
        json!({"title": "Call patient", "status": s.open, "assignee_group": s.group}),
    )
    .await;
    let t4 = created(&app, "/api/tasks", json!({"title": "Old fax", "status": s.done, "assignee_group": s.group, "category": s.c1, "due_date": {"time": "2024-06-10T08:00:00"}})).await;
    let (status, _) = app
        .patch(&format!("/api/tasks/{t4}"), json!({"archived": true}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let t5 = created(
        &app,
        "/api/tasks",
        json!({"title": "Ancient", "status": s.open, "assignee_user": me}),
    )
    .await;
    let long_ago = chrono::NaiveDate::from_ymd_opt(2020, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    app.sql(
        "UPDATE tasks SET updated_at = ? WHERE id = ?",
        vec![long_ago.into(), Val::from(t5)],
    );

    let cases: Vec<(String, Vec<i64>)> = vec![
        ("".into(), vec![t1, t2, t3, t5]),
        (format!("assignee_user={me}"), vec![t1, t5]),
        (format!("assignee_user={}", s.u2), vec![t2]),
        (format!("assignee_group={}", s.group), vec![t3]),
        (
            format!("assignee_group={}&show_archived=true", s.group),
            vec![t3, t4],
        ),
        (format!("status={}", s.open), vec![t1, t3, t5]),
        (format!("status={}", s.done), vec![t2]),
        (format!("category={}", s.c1), vec![t1]),
        (format!("category={}", s.c2), vec![t2]),
        ("due_at_date=2024-05-01".into(), vec![t1]),
        ("due_at_date=2024-05-03".into(), vec![t2]),
        ("due_at_date=2024-05-02".into(), vec![]),
        ("due_at_range=2024-05-01/2024-05-03".into(), vec![t1, t2]),
        ("due_at_range=2024-05-02/2024-05-02".into(), vec![]),
        (
            "due_at_range=2024-05-01/2024-06-30&show_archived=true".into(),
            vec![t1, t2, t4],
        ),
        ("due_at_since=2024-05-01T10:00:00".into(), vec![t1, t2]),
        ("due_at_since=2024-05-01T10:00:01".into(), vec![t2]),
        ("due_at_unknown=true".into(), vec![t3, t5]),
        ("due_at_unknown=false".into(), vec![t1, t2, t3, t5]),
        ("since=2021-01-01".into(), vec![t1, t2, t3, t4]),
        ("show_archived=true".into(), vec![t1, t2, t3, t4, t5]),
        (format!("assignee_user={me}&due_at_unknown=true"), vec![t5]),
    ];
    for (query, want) in cases {
        let (status, body) = app.get(&format!("/api/tasks?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert_eq!(ids(&body), want, "{query}");
    }
    for (query, param) in [
        ("assignee_user=me", "assignee_user"),
        ("assignee_group=x", "assignee_group"),
        ("status=open", "status"),
        ("category=1.5", "category"),
        ("due_at_date=2024-13-01", "due_at_date"),
        ("due_at_range=2024-05-03/2024-05-01", "due_at_range"),
        ("due_at_since=never", "due_at_since"),
        ("due_at_unknown=maybe", "due_at_unknown"),
        ("since=yesterday", "since"),
        ("show_archived=perhaps", "show_archived"),
    ] {
        let (status, body) = app.get(&format!("/api/tasks?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body.get(param).is_some(), "{query} names {param}: {body}");
    }
    let (_, t) = app.get(&format!("/api/tasks/{t1}")).await;
    assert_eq!(t["due_date"], json!({"time": "2024-05-01T10:00:00"}));
    assert_eq!(t["priority"], 30);
    let (_, t) = app.get(&format!("/api/tasks/{t3}")).await;
    assert!(t["due_date"].is_null() && t["priority"].is_null() && t["category"].is_null());
}

#[tokio::test]
async fn invalid_task_values_are_400_naming_the_field() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let base = json!({"title": "T", "status": s.open, "assignee_user": app.a.user});
    let with = |extra: Value| {
        let mut b = base.clone();
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    let b_status = {
        let (_, st) = app
            .send(
                Method::POST,
                "/api/task_statuses",
                Some(&app.b.token),
                Some(json!({"name": "Theirs"})),
            )
            .await;
        id(&st)
    };
    let cases = [
        (
            with(json!({"assignee_group": s.group})),
            vec!["assignee_user", "assignee_group"],
        ),
        (
            json!({"title": "T", "status": s.open}),
            vec!["assignee_user", "assignee_group"],
        ),
        (with(json!({"status": 999999})), vec!["status"]),
        (with(json!({"status": b_status})), vec!["status"]),
        (with(json!({"status": "open"})), vec!["status"]),
        (
            json!({"title": "T", "assignee_user": app.a.user}),
            vec!["status"],
        ),
        (with(json!({"priority": 25})), vec!["priority"]),
        (with(json!({"title": "  "})), vec!["title"]),
        (
            with(json!({"assignee_user": app.b.user})),
            vec!["assignee_user"],
        ),
        (with(json!({"category": 999999})), vec!["category"]),
        (
            with(json!({"due_date": {"time": "soon"}})),
            vec!["due_date"],
        ),
        (
            with(json!({"due_date": {"date": "2024-01-01"}})),
            vec!["due_date"],
        ),
        (with(json!({"due_date": "2024-01-01"})), vec!["due_date"]),
        (
            with(json!({"associated_items": [{"type": "Spaceship", "value": 1}]})),
            vec!["associated_items"],
        ),
        (
            with(json!({"associated_items": [{"type": "Patient", "value": 999999}]})),
            vec!["associated_items"],
        ),
        (
            with(json!({"associated_items": [{"type": "Patient"}]})),
            vec!["associated_items"],
        ),
        (with(json!({"notes": [{"archived": true}]})), vec!["notes"]),
        (
            with(json!({"notes": [{"id": 999999, "text": "x"}]})),
            vec!["notes"],
        ),
        (with(json!({"archived": "sometimes"})), vec!["archived"]),
    ];
    for (body, fields) in cases {
        let (status, err) = app.post("/api/tasks", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        for f in fields {
            assert!(err[f].is_array(), "{body} names {f}: {err}");
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM tasks", vec![]), 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM task_notes", vec![]), 0);

    for (path, body, field) in [
        (
            "/api/task_statuses",
            json!({"name": "X", "status_category": "Z"}),
            "status_category",
        ),
        (
            "/api/task_statuses",
            json!({"name": "X", "task_category": 999999}),
            "task_category",
        ),
        ("/api/task_statuses", json!({}), "name"),
        ("/api/task_categories", json!({"name": ""}), "name"),
        (
            "/api/task_notes",
            json!({"task": 999999, "text": "x"}),
            "task",
        ),
        (
            "/api/task_templates",
            json!({"name": "T", "default_due_date_offset": "3 days"}),
            "default_due_date_offset",
        ),
        (
            "/api/task_templates",
            json!({"name": "T", "default_due_date_offset": "1:75:00"}),
            "default_due_date_offset",
        ),
        (
            "/api/task_templates",
            json!({"name": "T", "default_priority": 15}),
            "default_priority",
        ),
        (
            "/api/task_templates",
            json!({"name": "T", "default_assignee_user": app.a.user, "default_assignee_group": s.group}),
            "default_assignee_user",
        ),
        (
            "/api/task_templates",
            json!({"name": "T", "default_status": 999999}),
            "default_status",
        ),
        ("/api/task_templates", json!({"default_title": "T"}), "name"),
    ] {
        let (status, err) = app.post(path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {err}");
        assert!(err[field].is_array(), "{path} {body} names {field}: {err}");
    }
}

#[tokio::test]
async fn created_by_and_assigned_by_come_from_the_token() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let (status, task) = app
        .post("/api/tasks", json!({"title": "T", "status": s.open, "assignee_user": app.a.user, "created_by": s.u2, "assigned_by": s.u2}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!(task["created_by"], app.a.user);
    assert_eq!(task["assigned_by"], app.a.user);
    let url = format!("/api/tasks/{}", id(&task));

    // Another user reassigns it to the group: assigned_by follows, assignee_user is cleared.
    let token2 = app.token_for(s.u2, "tasks");
    let (status, err) = app
        .send(
            Method::PATCH,
            &url,
            Some(&token2),
            Some(json!({"assignee_group": s.group, "created_by": s.u2})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{err}");
    let (_, t) = app.get(&url).await;
    assert_eq!(t["assignee_group"], s.group);
    assert!(t["assignee_user"].is_null());
    assert_eq!(t["assigned_by"], s.u2);
    assert_eq!(t["created_by"], app.a.user);

    // A change that leaves the assignee alone leaves assigned_by alone.
    let (status, _) = app
        .patch(&url, json!({"title": "Renamed", "priority": 40}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, t) = app.get(&url).await;
    assert_eq!(
        (
            t["title"].clone(),
            t["priority"].clone(),
            t["assigned_by"].clone()
        ),
        (json!("Renamed"), json!(40), json!(s.u2))
    );
    // Naming both in a PATCH is refused; clearing the only assignee too.
    let (status, err) = app
        .patch(
            &url,
            json!({"assignee_user": app.a.user, "assignee_group": s.group}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["assignee_user"].is_array() && err["assignee_group"].is_array());
    let (status, err) = app.patch(&url, json!({"assignee_group": null})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    // PUT replaces the whole task.
    let (status, err) = app
        .put(
            &url,
            json!({"title": "Put", "status": s.done, "assignee_user": s.u2}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{err}");
    let (_, t) = app.get(&url).await;
    assert_eq!(
        (
            t["status"].clone(),
            t["assignee_user"].clone(),
            t["assignee_group"].clone()
        ),
        (json!(s.done), json!(s.u2), Value::Null)
    );
    assert_eq!(t["assigned_by"], app.a.user);
}

#[tokio::test]
async fn task_notes_and_associated_items_round_trip() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let patient = id(&app.create_patient(json!({})).await);
    let office = app.office(1);
    let visit = app
        .appointment_body(office, "2024-05-01T10:00:00", json!({"patient": patient}))
        .await;
    let visit = created(&app, "/api/appointments", visit).await;
    let (status, task) = app
        .post("/api/tasks", json!({
            "title": "Follow up", "status": s.open, "assignee_user": app.a.user,
            "notes": [{"text": "Call the lab"}],
            "associated_items": [{"type": "Patient", "value": patient}, {"type": "appointment", "value": visit}],
        }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let tid = id(&task);
    assert_eq!(
        task["associated_items"],
        json!([{"type": "Patient", "value": patient, "task": tid}, {"type": "Appointment", "value": visit, "task": tid}])
    );
    let notes = task["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["text"], "Call the lab");
    assert_eq!(notes[0]["created_by"], app.a.user);
    assert_eq!(notes[0]["task"], tid);
    let n1 = id(&notes[0]);

    // A note through /api/task_notes shows on the task, and the task counts as changed.
    app.sql(
        "UPDATE tasks SET updated_at = ? WHERE id = ?",
        vec![
            chrono::NaiveDate::from_ymd_opt(2020, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .into(),
            Val::from(tid),
        ],
    );
    let token2 = app.token_for(s.u2, "tasks");
    let (status, note) = app
        .send(
            Method::POST,
            "/api/task_notes",
            Some(&token2),
            Some(json!({"task": tid, "text": "Lab says Friday", "created_by": app.a.user})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    assert_eq!(note["created_by"], s.u2);
    let n2 = id(&note);
    let (_, changed) = app.get("/api/tasks?since=2021-01-01").await;
    assert_eq!(ids(&changed), [tid]);
    let (_, t) = app.get(&format!("/api/tasks/{tid}")).await;
    let texts: Vec<&str> = t["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Call the lab", "Lab says Friday"]);

    // Through the task: archive one note, add another; unnamed notes are kept.
    let (status, err) = app
        .patch(
            &format!("/api/tasks/{tid}"),
            json!({"notes": [{"id": n1, "archived": true}, {"text": "Done"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{err}");
    let (_, listed) = app.get(&format!("/api/task_notes?task={tid}")).await;
    let rows = listed["results"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "archived notes are listed: {listed}");
    assert_eq!(rows[0]["archived"], true);
    assert_eq!(rows[1]["id"], n2);
    assert_eq!(rows[2]["text"], "Done");
    let (_, t) = app.get(&format!("/api/tasks/{tid}")).await;
    assert_eq!(t["notes"].as_array().unwrap().len(), 3);
    assert_eq!(t["notes"][0]["archived"], true);
    // A PATCH of another key keeps notes and items.
    app.patch(&format!("/api/tasks/{tid}"), json!({"title": "Renamed"}))
        .await;
    let (_, again) = app.get(&format!("/api/tasks/{tid}")).await;
    assert_eq!(again["notes"], t["notes"]);
    assert_eq!(again["associated_items"], t["associated_items"]);

    // Notes stay on their task; editing one refreshes the task.
    let other = created(
        &app,
        "/api/tasks",
        json!({"title": "Other", "status": s.open, "assignee_user": app.a.user}),
    )
    .await;
    let (status, err) = app
        .patch(&format!("/api/task_notes/{n2}"), json!({"task": other}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["task"].is_array());
    let (status, _) = app
        .patch(
            &format!("/api/task_notes/{n2}"),
            json!({"text": "Lab says Monday"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, t) = app.get(&format!("/api/tasks/{tid}")).await;
    assert_eq!(t["notes"][1]["text"], "Lab says Monday");
    let (status, err) = app
        .patch(
            &format!("/api/tasks/{other}"),
            json!({"notes": [{"id": n2, "text": "stolen"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["notes"].is_array());
    let (_, by_task) = app.get(&format!("/api/task_notes?task={other}")).await;
    assert_eq!(ids(&by_task), Vec::<i64>::new());
}

#[tokio::test]
async fn task_categories_statuses_and_templates_keep_their_documented_keys() {
    let app = TestApp::new().await;
    let s = setup(&app).await;

    let (_, cat) = app.get(&format!("/api/task_categories/{}", s.c1)).await;
    assert_eq!(cat["name"], "Refills");
    assert_eq!(cat["is_global"], false);
    assert_eq!(cat["practice_group"], app.a.id);
    assert_eq!(cat["archived"], false);
    assert!(cat["created_at"].is_string() && cat["updated_at"].is_string());
    let (status, _) = app
        .patch(
            &format!("/api/task_categories/{}", s.c2),
            json!({"archived": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = app.get("/api/task_categories").await;
    assert_eq!(ids(&list), [s.c1]);
    let (_, list) = app.get("/api/task_categories?show_archived=true").await;
    assert_eq!(ids(&list), [s.c1, s.c2]);

    let (_, st) = app.get(&format!("/api/task_statuses/{}", s.open)).await;
    assert_eq!(st["status_category"], "O", "default open");
    assert!(st["task_category"].is_null());
    assert_eq!(st["practice_group"], app.a.id);
    let (_, st) = app.get(&format!("/api/task_statuses/{}", s.done)).await;
    assert_eq!(st["status_category"], "C");
    let held = created(
        &app,
        "/api/task_statuses",
        json!({"name": "Held", "status_category": "H", "task_category": s.c1}),
    )
    .await;
    let (_, st) = app.get(&format!("/api/task_statuses/{held}")).await;
    assert_eq!(st["task_category"], s.c1);

    // Templates: the offset is parsed and normalized; the misspelled key works both ways.
    let (status, tpl) = app
        .post("/api/task_templates", json!({
            "name": "Lab follow-up", "default_title": "Review results", "default_note": "Check flags",
            "default_assignee_user": app.a.user, "defatul_category": s.c1, "default_status": s.open,
            "default_priority": 20, "default_due_date_offset": "2 12:30:00.25",
        }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{tpl}");
    assert_eq!(tpl["default_category"], s.c1);
    assert_eq!(tpl["defatul_category"], s.c1);
    assert_eq!(tpl["default_due_date_offset"], "2 12:30:00.250000");
    assert_eq!(tpl["default_priority"], 20);
    assert_eq!(tpl["practice_group"], app.a.id);
    let t1 = id(&tpl);
    let t2 = created(&app, "/api/task_templates", json!({"name": "Group", "default_assignee_group": s.group, "default_category": s.c2, "default_status": s.done, "default_due_date_offset": "90"})).await;
    let (_, tpl2) = app.get(&format!("/api/task_templates/{t2}")).await;
    assert_eq!(tpl2["default_due_date_offset"], "00:01:30");
    assert_eq!(tpl2["defatul_category"], s.c2);
    for (query, want) in [
        (format!("assignee_user={}", app.a.user), vec![t1]),
        (format!("assignee_group={}", s.group), vec![t2]),
        (format!("status={}", s.done), vec![t2]),
        (format!("category={}", s.c1), vec![t1]),
        ("since=2000-01-01".into(), vec![t1, t2]),
        ("since=2999-01-01".into(), vec![]),
    ] {
        let (_, body) = app.get(&format!("/api/task_templates?{query}")).await;
        assert_eq!(ids(&body), want, "{query}");
    }
    let (status, _) = app
        .patch(
            &format!("/api/task_templates/{t1}"),
            json!({"default_assignee_group": s.group, "default_due_date_offset": ""}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, tpl) = app.get(&format!("/api/task_templates/{t1}")).await;
    assert!(tpl["default_assignee_user"].is_null());
    assert_eq!(tpl["default_assignee_group"], s.group);
    assert_eq!(tpl["default_due_date_offset"], "");
    let (status, _) = app
        .patch(
            &format!("/api/task_templates/{t1}"),
            json!({"archived": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = app.get("/api/task_templates").await;
    assert_eq!(ids(&list), [t2]);
}

#[tokio::test]
async fn another_practice_sees_none_of_our_tasks_and_delete_is_not_allowed() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let task = created(&app, "/api/tasks", json!({"title": "Secret", "status": s.open, "assignee_user": app.a.user, "notes": [{"text": "private"}]})).await;
    let tpl = created(&app, "/api/task_templates", json!({"name": "Ours"})).await;
    let b = app.b.token.clone();
    for path in [
        "tasks",
        "task_categories",
        "task_statuses",
        "task_notes",
        "task_templates",
    ] {
        let (status, list) = app
            .get_as(&b, &format!("/api/{path}?show_archived=true"))
            .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(ids(&list), Vec::<i64>::new(), "{path}");
        let (status, _) = app.delete(&format!("/api/{path}/1")).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "DELETE {path}");
    }
    for path in [
        format!("/api/tasks/{task}"),
        format!("/api/task_categories/{}", s.c1),
        format!("/api/task_statuses/{}", s.open),
        format!("/api/task_templates/{tpl}"),
    ] {
        let (status, body) = app.get_as(&b, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.to_string().contains("Secret"));
        let (status, _) = app
            .send(
                Method::PATCH,
                &path,
                Some(&b),
                Some(json!({"name": "x", "title": "x"})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "PATCH {path}");
    }
    // B can use none of A's statuses, users, groups or tasks.
    let (status, err) = app
        .send(
            Method::POST,
            "/api/tasks",
            Some(&b),
            Some(json!({"title": "x", "status": s.open, "assignee_group": s.group})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["status"].is_array() && err["assignee_group"].is_array(),
        "{err}"
    );
    let (status, err) = app
        .send(
            Method::POST,
            "/api/task_notes",
            Some(&b),
            Some(json!({"task": task, "text": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["task"].is_array());
    // Without the tasks scope: 403.
    let no_tasks = app.token_for(app.a.user, "user labs");
    let (status, _) = app.get_as(&no_tasks, "/api/tasks").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
