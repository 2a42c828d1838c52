//! Webhook delivery: the retry schedule (in seconds, and 1 h / 3 h / 7 h on a moved clock),
//! `failed` then manual redelivery, redirects and timeouts as failures, several dispatchers
//! sharing the outbox without sending an attempt twice, and crash safety with the real
//! binary killed (-9) while deliveries are pending and in flight.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{free_port, serve_with, Server, TestApp};
use crate::receiver::{
    call, deliveries, settings, verified_hook, wait_delivery, Behavior, Receiver,
};

fn ts(v: &Value) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(v.as_str().unwrap(), "%Y-%m-%dT%H:%M:%S").unwrap()
}

/// The single delivery of a hook, once it has `n` attempts.
async fn with_attempts(app: &TestApp, hook: i64, n: usize, secs: u64) -> Value {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let list = deliveries(app, hook).await;
        if let Some(d) = list.first() {
            if d["attempts"].as_array().unwrap().len() >= n || Instant::now() > until {
                return d.clone();
            }
        } else if Instant::now() > until {
            panic!("no delivery");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn failed_attempts_follow_the_schedule_then_fail_until_redelivered() {
    let mut s = settings();
    s.webhook_retry_schedule = "1s,2s,3s".into();
    let app = TestApp::with_settings(s).await;
    let rx = Receiver::start();
    rx.set(
        "a",
        Behavior {
            status: 500,
            ..Behavior::default()
        },
    );
    let hook = verified_hook(&app, &rx, "a", &["PATIENT_CREATE"]).await;
    app.create_patient(json!({})).await;

    let d = with_attempts(&app, hook, 4, 20).await;
    let id = d["id"].as_i64().unwrap();
    let d = wait_delivery(&app, hook, id, "failed", 10).await;
    assert_eq!(d["status"], "failed", "{d}");
    assert_eq!(d["next_attempt_at"], Value::Null);
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 4, "the event, then 1 s, 2 s, 3 s after it");
    let created = ts(&d["created_at"]);
    for (a, offset) in attempts.iter().zip([0, 1, 2, 3]) {
        assert_eq!(a["status_code"], 500);
        assert_eq!(a["error"], "Answered 500.");
        let late = (ts(&a["at"]) - created).num_seconds() - offset;
        assert!(
            (0..=1).contains(&late),
            "attempt at +{offset}s: {a} (created {created})"
        );
    }
    assert_eq!(rx.posts("a").len(), 4);
    let (_, summary) = call(
        &app,
        Method::GET,
        &format!("/api/webhooks/{hook}/summary"),
        None,
    )
    .await;
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["success_rate"], 0.0);
    assert!(summary["last_failure_at"].is_string());
    let (_, page) = call(
        &app,
        Method::GET,
        &format!("/api/webhooks/{hook}/deliveries?status=failed"),
        None,
    )
    .await;
    assert_eq!(page["results"].as_array().unwrap().len(), 1);

    // Nothing more happens by itself; redelivered by hand, it goes out again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rx.posts("a").len(), 4);
    rx.set("a", Behavior::default());
    let (status, r) = call(
        &app,
        Method::POST,
        &format!("/api/webhooks/{hook}/deliveries/{id}/redeliver"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{r}");
    assert_eq!(r["status"], "pending");
    let d = wait_delivery(&app, hook, id, "delivered", 10).await;
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["attempts"].as_array().unwrap().len(), 5);
    assert_eq!(d["attempts"][4]["status_code"], 200);
    let posts = rx.posts("a");
    assert_eq!(posts.len(), 5);
    // Every attempt is the same message: one webhook-id, one delivery id.
    assert!(posts
        .iter()
        .all(|p| p.header("webhook-id") == posts[0].header("webhook-id")));
    assert!(posts
        .iter()
        .all(|p| p.header("x-drchrono-delivery") == id.to_string()));
    // A delivered delivery can be redelivered too; an unknown one is a 404.
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/api/webhooks/{hook}/deliveries/{id}/redeliver"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(rx.wait_posts("a", 6, 10).await.len(), 6);
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/api/webhooks/{hook}/deliveries/999999/redeliver"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, summary) = call(
        &app,
        Method::GET,
        &format!("/api/webhooks/{hook}/summary"),
        None,
    )
    .await;
    assert_eq!(summary["delivered"], 1);
    assert_eq!(summary["success_rate"], 100.0);
}

#[tokio::test]
async fn the_default_schedule_is_one_three_and_seven_hours_after_the_event() {
    // The real schedule (1h,3h,7h), on a clock the test moves.
    let app = TestApp::with_settings(settings()).await;
    let rx = Receiver::start();
    rx.set(
        "a",
        Behavior {
            status: 503,
            ..Behavior::default()
        },
    );
    let hook = verified_hook(&app, &rx, "a", &["PATIENT_CREATE"]).await;
    app.create_patient(json!({})).await;

    let d = with_attempts(&app, hook, 1, 10).await;
    let created = ts(&d["created_at"]);
    let hour = chrono::Duration::hours(1);
    assert_eq!(ts(&d["next_attempt_at"]), created + hour);
    let mut clock = 0;
    for (n, at) in [(2, 1), (3, 3), (4, 7)] {
        // Not a moment early.
        app.webhook_clock.advance(at * 3600 - clock - 60);
        chartd::webhooks::wake();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(rx.posts("a").len(), n - 1, "before +{at}h");
        app.webhook_clock.advance(60);
        clock = at * 3600;
        chartd::webhooks::wake();
        let d = with_attempts(&app, hook, n, 10).await;
        let attempts = d["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), n);
        let when = ts(&attempts[n - 1]["at"]) - created;
        assert!(
            (when - hour * at as i32).num_seconds().abs() <= 5,
            "attempt {n} at {when}, expected {at}h"
        );
        if n < 4 {
            assert_eq!(d["status"], "pending");
        }
    }
    let d = with_attempts(&app, hook, 4, 10).await;
    let d = wait_delivery(&app, hook, d["id"].as_i64().unwrap(), "failed", 10).await;
    assert_eq!(d["status"], "failed");
    assert_eq!(rx.posts("a").len(), 4);
}

#[tokio::test]
async fn a_redirect_is_a_failed_attempt_and_is_not_followed() {
    let app = TestApp::with_settings(settings()).await;
    let rx = Receiver::start();
    rx.set(
        "a",
        Behavior {
            status: 302,
            ..Behavior::default()
        },
    );
    let hook = verified_hook(&app, &rx, "a", &["PATIENT_CREATE"]).await;
    app.create_patient(json!({})).await;
    let d = with_attempts(&app, hook, 1, 10).await;
    let a = &d["attempts"][0];
    assert_eq!(a["status_code"], 302);
    assert!(
        a["error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed"),
        "{a}"
    );
    assert_eq!(d["status"], "pending", "retried later");
    assert!(d["next_attempt_at"].is_string());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        rx.all("a-redirected").is_empty(),
        "the Location was not followed"
    );
}

#[tokio::test]
async fn a_receiver_slower_than_the_timeout_is_a_failed_attempt() {
    let mut s = settings();
    s.webhook_timeout = "500ms".into();
    let app = TestApp::with_settings(s).await;
    let rx = Receiver::start();
    rx.set(
        "a",
        Behavior {
            delay: Duration::from_secs(3),
            ..Behavior::default()
        },
    );
    let hook = verified_hook(&app, &rx, "a", &["PATIENT_CREATE"]).await;
    let started = Instant::now();
    app.create_patient(json!({})).await;
    let d = with_attempts(&app, hook, 1, 10).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "did not wait for the receiver"
    );
    let a = &d["attempts"][0];
    assert_eq!(a["status_code"], Value::Null);
    assert!(a["error"].as_str().unwrap().contains("Timed out"), "{a}");
    let ms = a["duration_ms"].as_i64().unwrap();
    assert!((400..2000).contains(&ms), "{a}");
    // A refused connection is a failed attempt too.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    app.sql(
        "UPDATE webhooks SET callback_url = ?, callback_host = ? WHERE id = ?",
        vec![
            format!("http://127.0.0.1:{port}/x").into(),
            format!("127.0.0.1:{port}").into(),
            hook.into(),
        ],
    );
    let id = d["id"].as_i64().unwrap();
    app.sql(
        "UPDATE webhook_deliveries SET next_attempt_at = base_at WHERE id = ?",
        vec![id.into()],
    );
    chartd::webhooks::wake();
    let d = with_attempts(&app, hook, 2, 10).await;
    let a = &d["attempts"][1];
    assert_eq!(a["status_code"], Value::Null);
    assert!(!a["error"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn the_answer_is_not_read_past_a_small_limit() {
    // A receiver streaming an endless answer: the attempt still ends (success, 2xx).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let _ = s.read(&mut buf);
                let req = String::from_utf8_lossy(&buf);
                if req.starts_with("GET") {
                    // The handshake: answer with a huge body.
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"secret_token\": \"");
                } else {
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
                }
                let chunk = vec![b'x'; 64 * 1024];
                for _ in 0..1024 {
                    if s.write_all(&chunk).is_err() {
                        return;
                    }
                }
            });
        }
    });
    let app = TestApp::with_settings(settings()).await;
    let (_, hook) = call(
        &app,
        Method::POST,
        "/api/webhooks",
        Some(json!({"callback_url": format!("http://127.0.0.1:{port}/h"), "secret_token": crate::receiver::SECRET, "events": ["PATIENT_CREATE"]})),
    )
    .await;
    let id = hook["id"].as_i64().unwrap();
    let started = Instant::now();
    let (_, v) = call(
        &app,
        Method::POST,
        &format!("/api/webhooks/{id}/verify"),
        None,
    )
    .await;
    assert_eq!(v["verified"], false);
    assert!(v["error"].as_str().unwrap().contains("larger than"), "{v}");
    assert!(started.elapsed() < Duration::from_secs(2));
    app.sql(
        "UPDATE webhooks SET verified = ? WHERE id = ?",
        vec![true.into(), id.into()],
    );
    app.create_patient(json!({})).await;
    let d = with_attempts(&app, id, 1, 10).await;
    assert_eq!(d["attempts"][0]["status_code"], 200);
    assert_eq!(d["status"], "delivered");
}

#[tokio::test]
async fn two_dispatchers_share_the_outbox_and_never_send_an_attempt_twice() {
    let mut s = settings();
    s.webhook_per_receiver = 4;
    let app = TestApp::with_settings(s.clone()).await;
    let rx = Receiver::start();
    rx.set(
        "a",
        Behavior {
            delay: Duration::from_millis(20),
            ..Behavior::default()
        },
    );
    let hook = verified_hook(&app, &rx, "a", &["PATIENT_CREATE"]).await;
    // A second dispatcher on the same database, with its own counters.
    let config = chartd::webhooks::Config::from_settings(&s).unwrap();
    let second = Arc::new(
        chartd::webhooks::Hub::new(config, chartd::webhooks::WebhookMetrics::default()).unwrap(),
    );
    let dispatcher = chartd::webhooks::dispatch::Dispatcher::start(app.db.clone(), second.clone());

    let n = 120;
    for chunk in 0..(n / 40) {
        let bodies: Vec<Value> = (0..40)
            .map(|i| app.patient_body(json!({"first_name": format!("P{}", chunk * 40 + i)})))
            .collect();
        let (status, _) = app.post("/api/patients", Value::Array(bodies)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let posts = rx.wait_posts("a", n, 30).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = rx.posts("a").len().max(posts.len());
    assert_eq!(posts, n, "each delivery sent exactly once");
    let mut per_delivery: HashMap<String, usize> = HashMap::new();
    for p in rx.posts("a") {
        *per_delivery
            .entry(p.header("x-drchrono-delivery").to_string())
            .or_default() += 1;
    }
    assert_eq!(per_delivery.len(), n);
    assert!(per_delivery.values().all(|c| *c == 1));
    let log = deliveries(&app, hook).await;
    assert!(log
        .iter()
        .all(|d| d["status"] == "delivered" && d["attempts"].as_array().unwrap().len() == 1));
    // Both took part.
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &{
        let mut r = prometheus_client::registry::Registry::default();
        second.metrics.register(&mut r);
        r
    })
    .unwrap();
    let theirs: f64 = text
        .lines()
        .filter(|l| l.starts_with("chartd_webhook_attempts_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(
        theirs > 0.0 && theirs < n as f64,
        "the second dispatcher sent {theirs} of {n}"
    );
    let (_, metrics) = app.send(Method::GET, "/metrics", None, None).await;
    let metrics = metrics.as_str().unwrap().to_string();
    assert!(
        metrics.contains(
            "chartd_webhook_attempts_total{event=\"PATIENT_CREATE\",outcome=\"delivered\"}"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("chartd_webhook_attempt_duration_seconds_bucket"));
    assert!(metrics.contains("chartd_webhook_delivery_latency_seconds_count"));
    dispatcher.stop().await;
}

/// A `chartd serve` process on the test's database that delivers webhooks to the receiver.
async fn serve(app: &TestApp, extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("CHARTD_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("CHARTD_WEBHOOK_TIMEOUT", "2s"),
        ("CHARTD_WEBHOOK_LEASE", "9s"),
        ("CHARTD_WEBHOOK_POLL", "100ms"),
    ];
    env.extend_from_slice(extra);
    serve_with(app, &env).await
}

/// Settings for a test app that only queues deliveries: the spawned processes send them.
fn queue_only() -> chartd::settings::Settings {
    let mut s = settings();
    s.webhook_concurrency = 0;
    s
}

/// Waits until `n` deliveries of the hook are delivered (watching the database, so as not to
/// spend the app's hourly calls); answers the delivery log.
async fn all_delivered(app: &TestApp, hook: i64, n: usize, secs: u64) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        let done = app.count(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = ? AND status = 'delivered'",
            vec![hook.into()],
        );
        if done as usize >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    deliveries(app, hook).await
}

#[tokio::test]
async fn two_server_processes_deliver_each_event_once() {
    let app = TestApp::with_settings(queue_only()).await;
    let rx = Receiver::start();
    rx.set(
        "a",
        Behavior {
            delay: Duration::from_millis(10),
            ..Behavior::default()
        },
    );
    let hook = verified_hook(&app, &rx, "a", &["PATIENT_CREATE"]).await;
    let per = [("CHARTD_WEBHOOK_PER_RECEIVER", "3")];
    let (_one, _two) = (serve(&app, &per).await, serve(&app, &per).await);
    let n = 80;
    let bodies: Vec<Value> = (0..n).map(|_| app.patient_body(json!({}))).collect();
    let (status, _) = app.post("/api/patients", Value::Array(bodies)).await;
    assert_eq!(status, StatusCode::CREATED);
    let log = all_delivered(&app, hook, n, 60).await;
    assert!(log.iter().all(|d| d["status"] == "delivered"), "{log:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut per_delivery: HashMap<String, usize> = HashMap::new();
    for p in rx.posts("a") {
        *per_delivery
            .entry(p.header("x-drchrono-delivery").to_string())
            .or_default() += 1;
    }
    assert_eq!(per_delivery.len(), n);
    assert!(per_delivery.values().all(|c| *c == 1), "{per_delivery:?}");
}

#[tokio::test]
async fn killing_the_server_loses_no_delivery_pending_or_in_flight() {
    let app = TestApp::with_settings(queue_only()).await;
    let rx = Receiver::start();
    // The first deliveries hang past the kill; the receiver is slow enough that most are
    // still pending then.
    rx.set(
        "a",
        Behavior {
            delay: Duration::from_millis(100),
            slow_first: 2,
            slow_delay: Duration::from_millis(1500),
            ..Behavior::default()
        },
    );
    let hook = verified_hook(&app, &rx, "a", &["PATIENT_CREATE"]).await;
    let n = 30;
    let bodies: Vec<Value> = (0..n).map(|_| app.patient_body(json!({}))).collect();
    let (status, _) = app.post("/api/patients", Value::Array(bodies)).await;
    assert_eq!(status, StatusCode::CREATED);
    let expected: Vec<i64> = deliveries(&app, hook)
        .await
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(expected.len(), n);

    let per = [("CHARTD_WEBHOOK_PER_RECEIVER", "2")];
    let mut first = serve(&app, &per).await;
    // Kill -9 once two requests are in flight (and some are done).
    let until = Instant::now() + Duration::from_secs(20);
    while rx.posts("a").len() < 4 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.0.kill().unwrap(); // SIGKILL
    first.0.wait().unwrap();
    let log = deliveries(&app, hook).await;
    let pending = log.iter().filter(|d| d["status"] == "pending").count();
    assert!(
        pending >= n / 2,
        "most were still pending at the kill ({pending})"
    );

    // Restarted, it delivers every one (those in flight once their lease ran out).
    let _second = serve(&app, &[]).await;
    let log = all_delivered(&app, hook, n, 60).await;
    let undelivered: Vec<&Value> = log.iter().filter(|d| d["status"] != "delivered").collect();
    assert!(undelivered.is_empty(), "{undelivered:?}");
    let received: std::collections::HashSet<String> = rx
        .posts("a")
        .iter()
        .map(|p| p.header("x-drchrono-delivery").to_string())
        .collect();
    for id in expected {
        assert!(
            received.contains(&id.to_string()),
            "delivery {id} never arrived"
        );
    }
}

#[tokio::test]
async fn a_worker_process_delivers_without_the_api_and_stops_cleanly() {
    let app = TestApp::with_settings(queue_only()).await;
    let rx = Receiver::start();
    let hook = verified_hook(&app, &rx, "a", &["PATIENT_CREATE"]).await;
    let metrics_port = free_port();
    let mut worker = Server(
        Command::new(env!("CARGO_BIN_EXE_chartd"))
            .args([
                "worker",
                "--metrics-bind",
                &format!("127.0.0.1:{metrics_port}"),
            ])
            .env("CHARTD_DATABASE_URL", &app.settings.store.database_url)
            .env("CHARTD_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("CHARTD_WEBHOOK_POLL", "100ms")
            .env("CHARTD_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        String::new(),
    );
    app.create_patient(json!({})).await;
    let log = all_delivered(&app, hook, 1, 20).await;
    assert_eq!(log[0]["status"], "delivered", "{log:?}");
    let metrics = app
        .client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "chartd_webhook_attempts_total{event=\"PATIENT_CREATE\",outcome=\"delivered\"} 1"
        ),
        "{metrics}"
    );
    let status = Command::new("kill")
        .args(["-TERM", &worker.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let until = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(code) = worker.0.try_wait().unwrap() {
            break code;
        }
        assert!(Instant::now() < until, "the worker stops on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(code.success(), "{code:?}");
}

#[tokio::test]
async fn a_slow_receiver_gets_at_most_its_share_and_does_not_hold_up_the_others() {
    let mut s = settings();
    s.webhook_per_receiver = 2;
    s.webhook_concurrency = 4;
    let app = TestApp::with_settings(s).await;
    let (slow, fast) = (Receiver::start(), Receiver::start());
    slow.set(
        "s",
        Behavior {
            delay: Duration::from_millis(1500),
            ..Behavior::default()
        },
    );
    let slow_hook = verified_hook(&app, &slow, "s", &["PATIENT_CREATE"]).await;
    verified_hook(&app, &fast, "f", &["PATIENT_MODIFY"]).await;

    // A backlog for the slow receiver...
    let bodies: Vec<Value> = (0..12).map(|_| app.patient_body(json!({}))).collect();
    let (status, created) = app.post("/api/patients", Value::Array(bodies)).await;
    assert_eq!(status, StatusCode::CREATED);
    slow.wait_posts("s", 2, 10).await;
    // ...does not delay another receiver's delivery.
    let started = Instant::now();
    app.patch(
        &format!("/api/patients/{}", created[0]["id"]),
        json!({"first_name": "Z"}),
    )
    .await;
    let posts = fast.wait_posts("f", 1, 10).await;
    assert_eq!(posts.len(), 1);
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    // The slow one got at most its share at once, and everything in the end.
    all_delivered(&app, slow_hook, 12, 30).await;
    assert_eq!(slow.posts("s").len(), 12);
    assert_eq!(slow.max_in_flight(), 2);
}
