//! fetch-tokio — the fetcher on tokio with hyper's Client, the way hyper's
//! documentation uses it: one Client, cloned into every task (a clone shares
//! the connection pool), and `client.get(uri).await` then the body read with
//! `body.data().await`, piece by piece. -c worker tasks take job numbers from
//! a shared counter, as fetch-go's goroutines take them from a channel, on the
//! default multi-thread runtime; tokio::time::timeout bounds each request,
//! connect to last byte.
use std::error::Error as _;
use std::io::{BufRead, ErrorKind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use c10k_tokio::{check_url, die, parse, percentile, raise_nofile, BodyCheck, Target, FETCH_FLAGS};
use hyper::body::HttpBody;
use hyper::client::HttpConnector;
use hyper::{Body, Client, Request};

const PROG: &str = "fetch-tokio";

struct Outcome {
    job: usize,
    bytes: i64,
    latency: Duration,
    reason: Option<String>,
}

/// The io::Error inside a hyper error, if any (a refused connect, a reset).
fn io_kind(e: &hyper::Error) -> Option<ErrorKind> {
    let mut src = e.source();
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        src = s.source();
    }
    None
}

/// Words for a failure before the body, the same as the C fetchers' (fetch_fail_errno).
fn head_reason(e: &hyper::Error) -> String {
    match io_kind(e) {
        Some(ErrorKind::ConnectionRefused) => return "connection refused".into(),
        Some(ErrorKind::ConnectionReset) => return "connection reset by peer".into(),
        _ => {}
    }
    let text = e.to_string();
    if e.is_incomplete_message() {
        return "connection closed before the response".into();
    }
    if e.is_parse() && text.contains("content-length") {
        return "malformed Content-Length".into();
    }
    if e.is_parse() {
        return "malformed status line".into();
    }
    text
}

/// One request, connect to last byte; None if it is what we asked for.
async fn fetch_one(client: &Client<HttpConnector>, t: &Target, keepalive: bool, check: &mut BodyCheck<'_>) -> Option<String> {
    let mut req = Request::get(t.request.as_str());
    if !keepalive {
        req = req.header("connection", "close"); // one connection per request, like the C fetchers
    }
    let req = match req.body(Body::empty()) {
        Ok(r) => r,
        Err(e) => return Some(e.to_string()),
    };
    let resp = match client.request(req).await {
        Ok(r) => r,
        Err(e) => return Some(head_reason(&e)),
    };
    let status = resp.status().as_u16();
    check.status = Some(status); // an error page is read, not checked (the status first)
    let announced: i64 = match resp.headers().get("content-length").map(|v| v.to_str().ok().and_then(|s| s.parse().ok())) {
        None => -1,
        Some(Some(n)) => n,
        Some(None) => return Some("malformed Content-Length".into()),
    };
    let mut body = resp.into_body();
    while let Some(piece) = body.data().await {
        match piece {
            Ok(bytes) => {
                if !check.feed(&bytes) {
                    return check.reason.clone();
                }
            }
            Err(e) => {
                let why = match io_kind(&e) {
                    Some(ErrorKind::ConnectionReset) if announced < 0 => "connection reset by peer".to_string(),
                    _ if announced >= 0 => format!("truncated body: {} of {} bytes", check.off, announced),
                    _ => format!("truncated chunked body after {} bytes", check.off),
                };
                return Some(check.failed(why));
            }
        }
    }
    check.judge(status, announced)
}

fn read_urls(name: &str) -> Vec<String> {
    let lines: Vec<String> = if name == "-" {
        std::io::stdin().lock().lines().map_while(Result::ok).collect()
    } else {
        match std::fs::File::open(name) {
            Ok(f) => std::io::BufReader::new(f).lines().map_while(Result::ok).collect(),
            Err(e) if e.kind() == ErrorKind::NotFound => die(PROG, &format!("-i {}: No such file or directory", name)),
            Err(e) => die(PROG, &format!("-i {}: {}", name, e)),
        }
    };
    lines.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && !s.starts_with('#')).collect()
}

#[tokio::main] // the default: the multi-thread runtime, one worker per core
async fn main() {
    let o = parse(PROG, "[flags] URL... | -i FILE",
        "Download many URLs at once on tokio with hyper's Client: -c worker tasks share\n\
         one Client (its connection pool) on the multi-thread runtime.",
        FETCH_FLAGS, true);
    let mode = match o.str("verify").unwrap_or("") {
        "on" => 1,
        "auto" => 2,
        "off" => 0,
        v => die(PROG, &format!("--verify: '{}' is not auto, on or off", v)),
    };
    let mut urls = o.args.clone();
    if let Some(f) = o.str("input") {
        urls.extend(read_urls(f));
    }
    if urls.is_empty() {
        die(PROG, "no URLs given");
    }
    let count = o.int("count") as usize;
    if urls.len() as i64 * count as i64 > 100000000 {
        die(PROG, &format!("{} fetches is too many (at most 100000000)", urls.len() as i64 * count as i64));
    }
    let targets: Vec<Target> = urls
        .iter()
        .map(|u| {
            let (request, expect) = check_url(PROG, u);
            Target { text: u.clone(), request, expect: if mode == 0 { -1 } else { expect }, verify: mode == 1 || (mode == 2 && expect >= 0) }
        })
        .collect();
    let njobs = targets.len() * count;
    let inflight = (o.int("concurrency") as usize).min(njobs);
    let keepalive = o.bool("keepalive");
    let timeout = Duration::from_millis(o.int("timeout") as u64);
    let timeout_ms = o.int("timeout");

    // The pool must not keep fewer idle connections than -c (its default keeps
    // all); without --keepalive none is kept and each request says "close".
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    let client: Client<HttpConnector> = Client::builder()
        .pool_max_idle_per_host(if keepalive { inflight } else { 0 })
        .build(http);

    raise_nofile();
    let targets = Arc::new(targets);
    let next = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Outcome>();
    let start = Instant::now();
    for _ in 0..inflight {
        let (client, targets, next, tx) = (client.clone(), targets.clone(), next.clone(), tx.clone());
        tokio::spawn(async move {
            loop {
                let job = next.fetch_add(1, Ordering::Relaxed);
                if job >= njobs {
                    return;
                }
                let t = &targets[job / count];
                let t0 = Instant::now();
                let mut check = BodyCheck::new(t);
                let reason = match tokio::time::timeout(timeout, fetch_one(&client, t, keepalive, &mut check)).await {
                    Ok(r) => r,
                    Err(_) => Some(format!("timeout after {} ms", timeout_ms)),
                };
                let _ = tx.send(Outcome { job, bytes: check.fetched(), latency: t0.elapsed(), reason });
            }
        });
    }
    drop(tx);

    let (mut ok, mut failed, mut bytes) = (0u64, 0u64, 0i64);
    let mut lat: Vec<f64> = Vec::with_capacity(njobs);
    let mut failures: Vec<String> = Vec::new();
    while let Some(r) = rx.recv().await {
        bytes += r.bytes;
        match r.reason {
            None => {
                ok += 1;
                lat.push(r.latency.as_secs_f64() * 1e3);
            }
            Some(why) => {
                failed += 1;
                if failures.len() < 20 {
                    failures.push(format!("{}: {}", targets[r.job / count].text, why));
                }
            }
        }
    }
    let wall = start.elapsed().as_secs_f64();
    if !o.bool("quiet") || failed > 0 {
        println!("{}: fetched {}, failed {}, bytes {}, wall {:.3} s ({:.0} fetches/s, c={}{})", PROG, ok, failed, bytes, wall,
                 if wall > 0.0 { ok as f64 / wall } else { 0.0 }, inflight, if keepalive { ", keepalive" } else { "" });
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("{}: latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms", PROG, percentile(&lat, 50.0), percentile(&lat, 99.0),
                 lat.last().copied().unwrap_or(0.0));
    }
    for l in &failures {
        eprintln!("{}: failed {}", PROG, l);
    }
    if failed > failures.len() as u64 {
        eprintln!("{}: ... and {} more failures", PROG, failed - failures.len() as u64);
    }
    std::process::exit(if failed > 0 { 1 } else { 0 });
}
