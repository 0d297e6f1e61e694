// peer.js — what the Node peers share with the C programs' contract: the
// flags (util.parseArgs, with the C programs' one-line errors and exit 2),
// the ready line, the URL rules, the /bytes/N pattern check and the
// fetcher's summary (models/common/{flags,server,fetch}.c say the same).
'use strict';
const { parseArgs } = require('node:util');

// Print "prog: message (try --help)" and exit 2, like flags_die().
function die(prog, msg) {
  process.stderr.write(`${prog}: ${msg} (try --help)\n`);
  process.exit(2);
}

// table: {name: {short, type: 'int'|'string'|'boolean', default, min, max, arg, help}}
function parse(prog, usage, about, table, argv, positionals) {
  const options = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries(table)) {
    options[name] = { type: f.type === 'boolean' ? 'boolean' : 'string' };
    if (f.short) options[name].short = f.short;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    die(prog, e.message.split('.')[0]); // the first sentence names the flag
  }
  if (parsed.values.help) {
    const lines = [`usage: ${prog} ${usage}`, '', about, '', 'flags:'];
    for (const [name, f] of Object.entries(table)) {
      const left = (f.short ? `-${f.short}, ` : '    ') + `--${name}` + (f.type === 'boolean' ? '' : ` ${f.arg}`);
      const dflt = f.type === 'boolean' || f.default == null ? '' : ` (default ${f.default})`;
      lines.push(`  ${left.padEnd(24)} ${f.help}${dflt}`);
    }
    lines.push(`  ${'-h, --help'.padEnd(24)} print this help and exit`);
    process.stdout.write(lines.join('\n') + '\n');
    process.exit(0);
  }
  if (!positionals && parsed.positionals.length) die(prog, `unexpected argument '${parsed.positionals[0]}'`);
  const vals = {};
  for (const [name, f] of Object.entries(table)) {
    const v = parsed.values[name];
    if (v === undefined) { vals[name] = f.default; continue; }
    if (f.type !== 'int') { vals[name] = v; continue; }
    if (!/^[+-]?\d+$/.test(v)) die(prog, `--${name}: '${v}' is not a whole number`);
    const x = Number(v);
    if (x < f.min || x > f.max) die(prog, `--${name}: ${x} is out of range ${f.min}..${f.max}`);
    vals[name] = x;
  }
  return { vals, args: parsed.positionals };
}

const SERVER_FLAGS = {
  port: { short: 'p', type: 'int', default: 0, min: 0, max: 65535, arg: 'PORT', help: 'TCP port; 0 asks the kernel for a free one' },
  bind: { short: 'b', type: 'string', default: '127.0.0.1', arg: 'ADDR', help: 'IPv4 address to listen on' },
  backlog: { type: 'int', default: 4096, min: 1, max: 1 << 20, arg: 'N', help: 'listen backlog (the kernel caps it at net.core.somaxconn)' },
  work: { short: 'w', type: 'int', default: 0, min: 0, max: 100000000, arg: 'N', help: 'units of CPU work per message (models/common/work.c, in 32-bit halves)' },
  'stack-kib': { type: 'int', default: 0, min: 0, max: 1 << 20, arg: 'KIB', help: 'checked as the C models check it (0, or at least 32), then ignored: a callback has no stack of its own' },
};
const SERVER_STACK_MIN_KIB = 32; // server.c's floor for --stack-kib

// The server flags, and --stack-kib checked as server_parse() checks it.
function serverFlags(prog, about, argv) {
  const { vals } = parse(prog, '[flags]', about, SERVER_FLAGS, argv, false);
  const k = vals['stack-kib'];
  if (k !== 0 && k < SERVER_STACK_MIN_KIB) die(prog, `--stack-kib: ${k} is too small for a connection's 2 KiB buffer; at least ${SERVER_STACK_MIN_KIB}`);
  return vals;
}

// "listen EADDRINUSE: address already in use 127.0.0.1:80" in strerror()'s
// words, as the C servers say it: "Address already in use".
function strerror(err) {
  const m = /^\S+ [A-Z]+: (.*?)( [0-9.]+:\d+)?$/.exec(err.message);
  const s = m ? m[1] : err.message;
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// models/common/work.c's work_do(), line for line: units times 64 rounds of a
// splitmix64-style mixer seeded by the message. The 64-bit state is kept as
// two unsigned 32-bit halves and multiplied with Math.imul (MDN: "C-like
// 32-bit multiplication") and 16-bit pieces for the high half: plain numbers,
// nothing allocated per operation, where BigInt — JavaScript's only 64-bit
// integer — allocates a new value on the heap at every step.
let mh = 0, ml = 0; // mul64's result: no array allocated per call
function mul64(ah, al, bh, bl) { // (mh:ml) = the low 64 bits of (ah:al) * (bh:bl)
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const t = a0 * b0, m1 = a1 * b0 + (t >>> 16), m2 = a0 * b1 + (m1 & 0xffff);
  const carry = a1 * b1 + (m1 >>> 16) + (m2 >>> 16); // the high 32 bits of al * bl
  mh = (carry + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  ml = Math.imul(al, bl) >>> 0;
}
function workDo(units, msg) {
  if (units <= 0) return 0n;
  const b = Buffer.alloc(8);
  b.writeUInt32LE((0x7f4a7c15 ^ msg.length) >>> 0, 0); // 0x9e3779b97f4a7c15 ^ len (len < 2^31)
  b.writeUInt32LE(0x9e3779b9, 4);
  msg.copy(b, 0, 0, Math.min(msg.length, 8)); // memcpy(&x, msg, min(len, 8))
  let lo = b.readUInt32LE(0), hi = b.readUInt32LE(4);
  for (let i = 0; i < units * 64; i++) {
    lo += 0x7f4a7c15; // x += 0x9e3779b97f4a7c15
    hi = (hi + 0x9e3779b9 + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    lo >>>= 0;
    mul64((hi ^ (hi >>> 30)) >>> 0, (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0, 0xbf58476d, 0x1ce4e5b9); // (x ^ (x >> 30)) * ...
    mul64((mh ^ (mh >>> 27)) >>> 0, (ml ^ ((ml >>> 27) | (mh << 5))) >>> 0, 0x94d049bb, 0x133111eb); // (x ^ (x >> 27)) * ...
    hi = (mh ^ (mh >>> 31)) >>> 0; // x ^= x >> 31
    lo = (ml ^ ((ml >>> 31) | (mh << 1))) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo); // once, for the caller and the test
}

const FETCH_FLAGS = {
  concurrency: { short: 'c', type: 'int', default: 10, min: 1, max: 100000, arg: 'C', help: 'most requests in flight at once' },
  count: { short: 'n', type: 'int', default: 1, min: 1, max: 100000000, arg: 'COUNT', help: 'fetch every URL COUNT times' },
  input: { short: 'i', type: 'string', default: null, arg: 'FILE', help: "read URLs from FILE, one per line ('-' for stdin)" },
  timeout: { type: 'int', default: 10000, min: 1, max: 86400000, arg: 'MS', help: 'deadline of one request, connect to last byte, in milliseconds' },
  keepalive: { type: 'boolean', default: false, help: 'reuse connections between requests' },
  verify: { type: 'string', default: 'auto', arg: 'MODE', help: "auto|on|off: check body bytes against fetchd's pattern (auto: for /bytes/N)" },
  quiet: { short: 'q', type: 'boolean', default: false, help: 'print nothing unless a fetch failed' },
};

// The URL rules of http_url_parse(): http://IPv4-or-localhost[:port]/path, the
// port digits only, the fragment the client's alone (never sent). Returns the
// body length a /bytes/N path promises, -1 for any other path. (WHATWG's URL,
// which fetch() uses, would take more: other hosts, a port like "080".)
function checkUrl(prog, text) {
  const t = text.slice(0, 200).replace(/[\x00-\x1f\x7f]/g, '?'); // one line, whatever the URL holds
  const m = /^http:\/\/([^:/?#]*)(:[^/?#]*)?([^#]*)/is.exec(text);
  if (!m) die(prog, `'${t}': only http:// URLs are supported`);
  const [, host, port] = m;
  if (!host || host.length >= 64) die(prog, `'${t}': missing or too long host`);
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (host !== 'localhost' && !(ipv4 && ipv4.slice(1).every((p) => Number(p) <= 255)))
    die(prog, `'${t}': host must be a dotted IPv4 address or localhost`);
  if (port !== undefined && !(/^:\d{1,5}$/.test(port) && Number(port.slice(1)) >= 1 && Number(port.slice(1)) <= 65535))
    die(prog, `'${t}': bad port`);
  const path = m[3][0] === '/' ? m[3] : `/${m[3]}`; // "http://h" and "http://h?q" mean "/" and "/?q"
  if (path.length >= 1024) die(prog, `'${t}': path too long`);
  if (/[^\x21-\x7e]/.test(path)) die(prog, `'${t}': space, control or non-ASCII byte in path`); // RFC 3986: percent-encode the rest
  const b = /^\/bytes\/(\d{1,15})(\?|$)/.exec(path);
  return b ? Number(b[1]) : -1;
}

// The /bytes/N pattern (models/common/pattern.h); it repeats every 26 lines of 64.
const PERIOD = 26 * 64;
const patternByte = (i) => (i % 64 === 63 ? 10 : 97 + ((Math.floor(i / 64) + (i % 64)) % 26));
const PIECE = 1 << 16;
const PATTERN = Buffer.alloc(PERIOD + PIECE);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = patternByte(i);

// Checks a body fed in pieces: the pattern (compared with Buffer.equals, so the
// work per byte is native code) and the expected length. reason: the first fault.
class BodyCheck {
  constructor(target) {
    this.t = target;
    this.off = 0;       // body bytes received so far
    this.reason = null;
    this.status = null; // the response's status, once its head is in
  }
  // An HTTP error? Then the status is the news, not its bytes: they are read
  // but neither checked nor counted (fetch_check_body).
  errorPage() { return this.status !== null && (this.status < 200 || this.status > 299); }
  // The body bytes to count as fetched: none of an error page.
  fetched() { return this.errorPage() ? 0 : this.off; }
  // A failure while reading the body; the status first if it was an error page.
  failed(reason) { return this.errorPage() ? `HTTP status ${this.status}; ${reason}` : reason; }
  feed(data) {
    if (this.errorPage()) {
      this.off += data.length;
      return true;
    }
    const { t, off } = this;
    if (t.expect >= 0 && off + data.length > t.expect) {
      this.reason = `body longer than the ${t.expect} bytes expected`;
      return false;
    }
    if (t.verify) {
      for (let k = 0; k < data.length; k += PIECE) {
        const piece = data.subarray(k, k + PIECE);
        const start = (off + k) % PERIOD;
        if (!Buffer.from(piece.buffer, piece.byteOffset, piece.length).equals(PATTERN.subarray(start, start + piece.length))) {
          let j = 0;
          while (piece[j] === patternByte(off + k + j)) j++;
          this.reason = `pattern mismatch at byte ${off + k + j}`;
          return false;
        }
      }
    }
    this.off += data.length;
    return true;
  }
  // The whole response arrived: is it what we asked for? The status first (fetch_judge).
  judge(status, announced) {
    if (status === 204 || status === 304) announced = -1; // no body, whatever Content-Length says (RFC 9110 6.4.1)
    if (status < 200 || status > 299) return `HTTP status ${status}`;
    if (this.reason) return this.reason;
    const want = announced >= 0 ? announced : this.t.expect;
    if (want >= 0 && this.off < want) return `truncated body: ${this.off} of ${want} bytes`;
    if (this.t.expect >= 0 && this.off !== this.t.expect) return `truncated body: ${this.off} of ${this.t.expect} bytes`;
    return null;
  }
}

// Nearest-rank percentile of an ascending array.
function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p * sorted.length) / 100) - 1))];
}

module.exports = { die, parse, SERVER_FLAGS, serverFlags, strerror, workDo, FETCH_FLAGS, checkUrl, BodyCheck, percentile };
