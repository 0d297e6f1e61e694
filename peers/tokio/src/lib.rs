//! What the tokio peers share with the C programs' contract: the flags (the
//! C programs' one-line errors and exit status 2), the URL rules, the
//! /bytes/N pattern check, the fetcher's summary and --work
//! (models/common/{flags,server,fetch,work}.c say the same; peers/go/internal/peer
//! is the same code in Go). The standard library only: no argument crate.

use std::io::Write;

/// Print "prog: message (try --help)" and exit 2, like flags_die().
pub fn die(prog: &str, msg: &str) -> ! {
    eprintln!("{}: {} (try --help)", prog, msg);
    std::process::exit(2);
}

/// The kind and bounds of one flag.
pub enum Kind {
    Int(i64, i64),
    Str,
    Bool,
}

/// One flag: --name (and -short), its argument's name and its help line.
pub struct Flag {
    pub name: &'static str,
    pub short: Option<char>,
    pub kind: Kind,
    pub arg: &'static str,
    pub help: &'static str,
    pub default: &'static str,
}

/// The parsed values: each flag's text (its default if not given), and the
/// positional arguments.
pub struct Parsed {
    vals: Vec<(String, Option<String>)>,
    pub args: Vec<String>,
}

impl Parsed {
    pub fn int(&self, name: &str) -> i64 {
        self.str(name).map(|v| v.parse().unwrap_or(0)).unwrap_or(0)
    }
    pub fn str(&self, name: &str) -> Option<&str> {
        self.vals.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.as_deref())
    }
    pub fn bool(&self, name: &str) -> bool {
        self.str(name) == Some("1")
    }
}

/// strtol(v, &end, 10) with nothing after the number: an optional sign, then digits.
fn whole_number(v: &str) -> Option<i64> {
    let digits = v.strip_prefix(|c| c == '+' || c == '-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.trim_start_matches('+').parse().ok()
}

/// Parse argv like flags_parse(): --name VALUE, --name=VALUE, -x VALUE,
/// positional arguments anywhere (when `positional`), "--" ends the flags.
pub fn parse(prog: &str, usage: &str, about: &str, table: &[Flag], positional: bool) -> Parsed {
    let mut vals: Vec<(String, Option<String>)> = table
        .iter()
        .map(|f| (f.name.to_string(), if f.default.is_empty() { None } else { Some(f.default.to_string()) }))
        .collect();
    let mut args = Vec::new();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (mut i, mut only_pos) = (0, false);
    while i < argv.len() {
        let a = &argv[i];
        i += 1;
        if only_pos || !a.starts_with('-') || a == "-" {
            if !positional {
                die(prog, &format!("unexpected argument '{}'", a));
            }
            args.push(a.clone());
            continue;
        }
        if a == "--" {
            only_pos = true;
            continue;
        }
        if a == "-h" || a == "--help" {
            help(prog, usage, about, table);
        }
        let mut value: Option<String> = None;
        let f = if let Some(long) = a.strip_prefix("--") {
            let (name, v) = match long.find('=') {
                Some(k) => (&long[..k], Some(long[k + 1..].to_string())),
                None => (long, None),
            };
            value = v;
            match table.iter().find(|f| f.name == name) {
                Some(f) => f,
                None => die(prog, &format!("unknown flag '--{}'", name)),
            }
        } else {
            let c: Vec<char> = a[1..].chars().collect();
            match table.iter().find(|f| c.len() == 1 && f.short == Some(c[0])) {
                Some(f) => f,
                None => die(prog, &format!("unknown flag '{}'", a)),
            }
        };
        let slot = vals.iter_mut().find(|(n, _)| n == f.name).unwrap();
        if let Kind::Bool = f.kind {
            if value.is_some() {
                die(prog, &format!("--{} takes no value", f.name));
            }
            slot.1 = Some("1".into());
            continue;
        }
        let v = match value {
            Some(v) => v,
            None if i < argv.len() => {
                i += 1;
                argv[i - 1].clone()
            }
            None => die(prog, &format!("--{} needs a value ({})", f.name, f.arg)),
        };
        if let Kind::Int(lo, hi) = f.kind {
            // base 10 only, as strtol(v, &end, 10): "0x50" is not a port
            let x = match whole_number(&v) {
                Some(x) => x,
                None => die(prog, &format!("--{}: '{}' is not a whole number", f.name, v)),
            };
            if x < lo || x > hi {
                die(prog, &format!("--{}: {} is out of range {}..{}", f.name, x, lo, hi));
            }
            slot.1 = Some(x.to_string());
        } else {
            slot.1 = Some(v);
        }
    }
    Parsed { vals, args }
}

fn help(prog: &str, usage: &str, about: &str, table: &[Flag]) -> ! {
    let mut out = format!("usage: {} {}\n\n{}\n\nflags:\n", prog, usage, about);
    for f in table {
        let mut left = match f.short {
            Some(c) => format!("-{}, --{}", c, f.name),
            None => format!("    --{}", f.name),
        };
        if !matches!(f.kind, Kind::Bool) {
            left = format!("{} {}", left, f.arg);
        }
        let dflt = if f.default.is_empty() || matches!(f.kind, Kind::Bool) { String::new() } else { format!(" (default {})", f.default) };
        out += &format!("  {:<24} {}{}\n", left, f.help, dflt);
    }
    out += &format!("  {:<24} print this help and exit\n", "-h, --help");
    print!("{}", out);
    let _ = std::io::stdout().flush();
    std::process::exit(0);
}

/// The echo servers' flags (models/common/server.c's server_parse).
pub const SERVER_FLAGS: &[Flag] = &[
    Flag { name: "port", short: Some('p'), kind: Kind::Int(0, 65535), arg: "PORT", help: "TCP port; 0 asks the kernel for a free one", default: "0" },
    Flag { name: "bind", short: Some('b'), kind: Kind::Str, arg: "ADDR", help: "IPv4 address to listen on", default: "127.0.0.1" },
    Flag { name: "backlog", short: None, kind: Kind::Int(1, 1 << 20), arg: "N", help: "listen backlog (the kernel caps it at net.core.somaxconn)", default: "4096" },
    Flag { name: "work", short: Some('w'), kind: Kind::Int(0, 100000000), arg: "N", help: "units of CPU work per message (models/common/work.c, in Rust)", default: "0" },
    Flag { name: "stack-kib", short: None, kind: Kind::Int(0, 1 << 20), arg: "KIB", help: "checked as the C models check it (0, or at least 32), then ignored: a task has no stack of its own", default: "0" },
];

/// server_parse()'s --stack-kib floor: a C server refuses a stack its buffer would overflow.
pub const SERVER_STACK_MIN_KIB: i64 = 32;

/// models/common/work.c's work_do(), line for line: units times 64 rounds of
/// a splitmix64-style mixer seeded by the message.
pub fn work_do(units: i64, msg: &[u8]) -> u64 {
    if units <= 0 {
        return 0;
    }
    let mut b = (0x9e3779b97f4a7c15u64 ^ msg.len() as u64).to_le_bytes();
    let k = msg.len().min(8);
    b[..k].copy_from_slice(&msg[..k]); // memcpy(&x, msg, min(len, 8))
    let mut x = u64::from_le_bytes(b);
    for _ in 0..units * 64 {
        x = x.wrapping_add(0x9e3779b97f4a7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d049bb133111eb);
        x ^= x >> 31;
    }
    WORK_SINK.store(x, std::sync::atomic::Ordering::Relaxed); // keeps the result alive, like work_sink
    x
}

static WORK_SINK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The fetchers' flags (models/common/fetch.c).
pub const FETCH_FLAGS: &[Flag] = &[
    Flag { name: "concurrency", short: Some('c'), kind: Kind::Int(1, 100000), arg: "C", help: "most requests in flight at once", default: "10" },
    Flag { name: "count", short: Some('n'), kind: Kind::Int(1, 100000000), arg: "COUNT", help: "fetch every URL COUNT times", default: "1" },
    Flag { name: "input", short: Some('i'), kind: Kind::Str, arg: "FILE", help: "read URLs from FILE, one per line ('-' for stdin)", default: "" },
    Flag { name: "timeout", short: None, kind: Kind::Int(1, 86400000), arg: "MS", help: "deadline of one request, connect to last byte, in milliseconds", default: "10000" },
    Flag { name: "keepalive", short: None, kind: Kind::Bool, arg: "", help: "reuse connections between requests", default: "" },
    Flag { name: "verify", short: None, kind: Kind::Str, arg: "MODE", help: "auto|on|off: check body bytes against fetchd's pattern (auto: for /bytes/N)", default: "auto" },
    Flag { name: "quiet", short: Some('q'), kind: Kind::Bool, arg: "", help: "print nothing unless a fetch failed", default: "" },
];

/// The URL for a message: at most 200 bytes, control bytes as '?'.
fn shown(text: &str) -> String {
    text.chars().take(200).map(|c| if (c as u32) < 32 || c as u32 == 127 { '?' } else { c }).collect()
}

/// http_url_parse()'s rules: http://IPv4-or-localhost[:port]/path, the port
/// digits only, the fragment never sent. Returns the URL to request (without
/// its fragment) and the body length a /bytes/N path promises (-1 for any
/// other path); one line and exit 2 if the URL is refused.
pub fn check_url(prog: &str, text: &str) -> (String, i64) {
    let t = shown(text);
    if text.len() < 7 || !text.is_char_boundary(7) || !text[..7].eq_ignore_ascii_case("http://") {
        die(prog, &format!("'{}': only http:// URLs are supported", t));
    }
    let rest = &text[7..];
    let hlen = rest.find(|c| ":/?#".contains(c)).unwrap_or(rest.len());
    let (host, mut rest) = (&rest[..hlen], &rest[hlen..]);
    if host.is_empty() || host.len() >= 64 {
        die(prog, &format!("'{}': missing or too long host", t));
    }
    if host != "localhost" {
        let parts: Vec<&str> = host.split('.').collect();
        let ok = parts.len() == 4
            && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().unwrap() <= 255);
        if !ok {
            die(prog, &format!("'{}': host must be a dotted IPv4 address or localhost", t));
        }
    }
    if let Some(p) = rest.strip_prefix(':') {
        let nd = p.bytes().take_while(|b| b.is_ascii_digit()).count();
        let n: u32 = if nd > 0 && nd <= 5 { p[..nd].parse().unwrap() } else { 0 };
        if nd == 0 || nd > 5 || n < 1 || n > 65535 || (nd < p.len() && !"/?#".contains(&p[nd..nd + 1])) {
            die(prog, &format!("'{}': bad port", t));
        }
        rest = &p[nd..];
    }
    let path = rest.split('#').next().unwrap_or("");
    let path = if path.starts_with('/') { path.to_string() } else { format!("/{}", path) };
    if path.len() >= 1024 {
        die(prog, &format!("'{}': path too long", t));
    }
    if path.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        die(prog, &format!("'{}': space, control or non-ASCII byte in path", t));
    }
    let mut expect = -1;
    if let Some(n) = path.strip_prefix("/bytes/") {
        let digits = n.split('?').next().unwrap();
        if !digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()) {
            expect = digits.parse().unwrap();
        }
    }
    let request = match text.find('#') {
        Some(k) => text[..k].to_string(),
        None => text.to_string(),
    };
    (request, expect)
}

/// One distinct URL.
pub struct Target {
    pub text: String,    // the URL as written, for messages
    pub request: String, // the URL to request: the fragment dropped
    pub expect: i64,     // body length we require, -1 if unknown
    pub verify: bool,    // check body bytes against the pattern
}

// The /bytes/N pattern (models/common/pattern.h); it repeats every 26 lines of 64.
const PERIOD: usize = 26 * 64;
const PIECE: usize = 1 << 16;

pub fn pattern_byte(i: i64) -> u8 {
    if i % 64 == 63 {
        b'\n'
    } else {
        b'a' + ((i / 64 + i % 64) % 26) as u8
    }
}

/// The pattern's first PERIOD + PIECE bytes, computed by the compiler: any
/// piece of a body is compared with one slice of it.
static PATTERN: [u8; PERIOD + PIECE] = {
    let mut p = [0u8; PERIOD + PIECE];
    let mut i = 0;
    while i < PERIOD + PIECE {
        p[i] = if i % 64 == 63 { b'\n' } else { b'a' + ((i / 64 + i % 64) % 26) as u8 };
        i += 1;
    }
    p
};

/// Checks a body fed in pieces; `reason` is set at the first fault.
pub struct BodyCheck<'a> {
    pub t: &'a Target,
    pub off: i64,                // body bytes received so far
    pub reason: Option<String>,  // the first fault
    pub status: Option<u16>,     // the response's status, once its head is in
}

impl<'a> BodyCheck<'a> {
    pub fn new(t: &'a Target) -> Self {
        BodyCheck { t, off: 0, reason: None, status: None }
    }
    /// An HTTP error? Then its page is read but neither checked nor counted.
    pub fn error_page(&self) -> bool {
        matches!(self.status, Some(s) if !(200..=299).contains(&s))
    }
    pub fn fetched(&self) -> i64 {
        if self.error_page() { 0 } else { self.off }
    }
    /// A failure while reading the body; the status first if it was an error page.
    pub fn failed(&self, reason: String) -> String {
        match self.status {
            Some(s) if self.error_page() => format!("HTTP status {}; {}", s, reason),
            _ => reason,
        }
    }
    pub fn feed(&mut self, data: &[u8]) -> bool {
        if self.error_page() {
            self.off += data.len() as i64;
            return true;
        }
        if self.t.expect >= 0 && self.off + data.len() as i64 > self.t.expect {
            self.reason = Some(format!("body longer than the {} bytes expected", self.t.expect));
            return false;
        }
        if self.t.verify {
            let pat = &PATTERN;
            for (k, p) in data.chunks(PIECE).enumerate() {
                let at = self.off + (k * PIECE) as i64;
                let start = at as usize % PERIOD;
                if p != &pat[start..start + p.len()] {
                    let j = p.iter().enumerate().position(|(j, &b)| b != pattern_byte(at + j as i64)).unwrap_or(0);
                    self.reason = Some(format!("pattern mismatch at byte {}", at + j as i64));
                    return false;
                }
            }
        }
        self.off += data.len() as i64;
        true
    }
    /// The whole response arrived: is it what we asked for? The status first (fetch_judge).
    pub fn judge(&self, status: u16, mut announced: i64) -> Option<String> {
        if status == 204 || status == 304 {
            announced = -1; // no body, whatever Content-Length says (RFC 9110 6.4.1)
        }
        if !(200..=299).contains(&status) {
            return Some(format!("HTTP status {}", status));
        }
        if let Some(r) = &self.reason {
            return Some(r.clone());
        }
        let want = if announced >= 0 { announced } else { self.t.expect };
        if want >= 0 && self.off < want {
            return Some(format!("truncated body: {} of {} bytes", self.off, want));
        }
        if self.t.expect >= 0 && self.off != self.t.expect {
            return Some(format!("truncated body: {} of {} bytes", self.off, self.t.expect));
        }
        None
    }
}

/// Nearest-rank percentile of ascending values; 0 if empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((p * sorted.len() as f64 + 99.0) / 100.0) as usize;
    sorted[k.saturating_sub(1).min(sorted.len() - 1)]
}

/// The soft limit of descriptors raised to the hard one, as net_raise_nofile()
/// does: 1,000 connections need more than a soft limit of 1024.
pub fn raise_nofile() {
    let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) == 0 && rl.rlim_cur < rl.rlim_max {
            rl.rlim_cur = rl.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
        }
    }
}
