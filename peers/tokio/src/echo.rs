//! echo-tokio — the echo server on tokio, written as tokio's own tutorial
//! writes one ("Echo server", tokio.rs/tokio/tutorial/io): a TcpListener,
//! `tokio::spawn` of one task per accepted connection, and in the task a loop
//! of `read` into a heap buffer and `write_all` back. The task's code reads
//! like the C threads model's serve(); the default multi-thread runtime
//! (#[tokio::main]) runs the tasks M:N on one worker thread per core, parking
//! a task in its I/O driver (epoll) while a read or write would block — Go's
//! design, with the switch points (each .await) written in the code.
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use c10k_tokio::{die, parse, raise_nofile, work_do, SERVER_FLAGS, SERVER_STACK_MIN_KIB};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::signal::unix::{signal, SignalKind};

const PROG: &str = "echo-tokio";
/// Bytes read at most at a time: SERVER_BUF, like the C models (models/common/server.h).
const BUF: usize = 2048;

/// One connection's whole life: echo until the peer closes or fails. The
/// buffer is on the heap, as the tutorial advises: a stack array would be
/// held in the task's own state across every .await.
async fn serve(mut s: TcpStream, work: i64) {
    let mut buf = vec![0u8; BUF];
    loop {
        let n = match s.read(&mut buf).await {
            Ok(0) | Err(_) => return, // the peer's EOF (all it sent was echoed), or a reset
            Ok(n) => n,
        };
        work_do(work, &buf[..n]);
        if s.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Accept until the process ends. Out of descriptors, back off a little longer
/// each time (5 ms doubling to 1 s, as echo-go and net/http do) and say so at
/// most once a second: never a loop spinning on EMFILE.
async fn accept_loop(ln: TcpListener, work: i64) {
    let mut delay = Duration::ZERO;
    let mut said: Option<Instant> = None;
    loop {
        match ln.accept().await {
            Ok((s, _)) => {
                delay = Duration::ZERO;
                tokio::spawn(serve(s, work));
            }
            Err(e) => {
                if said.map_or(true, |t| t.elapsed() >= Duration::from_secs(1)) {
                    said = Some(Instant::now());
                    let why = if e.raw_os_error() == Some(24) { "Too many open files".to_string() } else { e.to_string() };
                    eprintln!("{}: accept: {}; refusing new connections for a moment", PROG, why);
                }
                delay = if delay.is_zero() { Duration::from_millis(5) } else { (delay * 2).min(Duration::from_secs(1)) };
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// strerror()'s words for an error of listen(), so that the line reads as the C servers'.
fn strerror(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::AddrInUse => "Address already in use".into(),
        ErrorKind::AddrNotAvailable => "Cannot assign requested address".into(),
        ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string().split(" (os error").next().unwrap_or("").to_string(),
    }
}

fn listen(bind: &str, port: u16, backlog: u32) -> std::io::Result<TcpListener> {
    let addr: SocketAddr = match bind.parse::<std::net::Ipv4Addr>() {
        Ok(ip) => SocketAddr::from((ip, port)),
        Err(_) => return Err(std::io::Error::new(ErrorKind::InvalidInput, "Invalid argument")),
    };
    // TcpListener::bind would take a backlog of 1024; TcpSocket takes --backlog.
    let sock = TcpSocket::new_v4()?;
    sock.set_reuseaddr(true)?;
    sock.bind(addr)?;
    sock.listen(backlog)
}

#[tokio::main] // the default: the multi-thread runtime, one worker per core
async fn main() {
    let o = parse(PROG, "[flags]",
        "An echo server on tokio: a task per connection (tokio::spawn), read and\n\
         write_all in a loop, on the multi-thread runtime. SIGINT or SIGTERM stops it.",
        SERVER_FLAGS, false);
    let stack = o.int("stack-kib");
    if stack != 0 && stack < SERVER_STACK_MIN_KIB {
        die(PROG, &format!("--stack-kib: {} is too small for a connection's 2 KiB buffer; at least {}", stack, SERVER_STACK_MIN_KIB));
    }
    let bind = o.str("bind").unwrap_or("").to_string();
    let port = o.int("port") as u16;
    raise_nofile();
    let ln = match listen(&bind, port, o.int("backlog") as u32) {
        Ok(ln) => ln,
        Err(e) => {
            eprintln!("{}: cannot listen on {}:{}: {}", PROG, bind, port, strerror(&e));
            std::process::exit(1);
        }
    };
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    println!("listening on {}", ln.local_addr().expect("local address"));
    tokio::spawn(accept_loop(ln, o.int("work")));
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    std::process::exit(0); // the connections' tasks end with the process
}
