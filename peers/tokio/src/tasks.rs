//! tasks-tokio — N tokio tasks that each sleep S seconds, all awaited: the
//! tokio kind of `make bench-tasks` (docs/tasks.md), as pkolaczk's comparison
//! wrote it: tokio::spawn of a task doing tokio::time::sleep, then every
//! JoinHandle awaited, on the default multi-thread runtime. Built into
//! bin/tasks-tokio by mk/tasks.mk.
//!
//!     tasks-tokio N S
//!
//! Prints "started N" once every task exists and "done in T s" at the end,
//! like bin/tasks-sleep, for bin/tasks-run to read.
use std::time::{Duration, Instant};

fn usage(msg: &str) -> ! {
    eprintln!("tasks-tokio: {} (usage: tasks-tokio N S)", msg);
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() != 2 {
        usage("want two arguments");
    }
    let n: usize = a[0].parse().unwrap_or(0);
    let s: f64 = a[1].parse().unwrap_or(-1.0);
    if n < 1 || !(s >= 0.0) {
        usage("N must be a whole number >= 1 and S a number >= 0");
    }
    let t0 = Instant::now();
    let d = Duration::from_secs_f64(s);
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        handles.push(tokio::spawn(async move { tokio::time::sleep(d).await }));
    }
    println!("started {}", n);
    for h in handles {
        h.await.expect("a task panicked");
    }
    println!("done in {:.2} s", t0.elapsed().as_secs_f64());
}
