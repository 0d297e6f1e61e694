// fetch-node — the fetcher on Node's http module, written as Node's
// documentation recommends for many requests to one host: one http.Agent
// whose pool holds -c sockets (maxSockets; keepAlive with --keepalive, so a
// socket serves the next request), and http.get() per URL, the answer read
// as the response stream's 'data' events and checked piece by piece. Not the
// global fetch(): it is undici's WHATWG layer (a Request, a Headers, a
// ReadableStream and an AbortSignal per request) over the same sockets, about
// four times the CPU per request in this suite's figures (docs/peers.md).
// The number in flight is bounded the usual way: -c async workers, each
// awaiting one request at a time and taking the next URL from a shared
// index. One setTimeout per request bounds it, connect to last byte.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const peer = require('./peer.js');

const prog = 'fetch-node';
const { vals: opt, args } = peer.parse(prog, '[flags] URL... | -i FILE',
  "Download many URLs at once with Node's http module: one http.Agent (-c sockets),\n" +
  '-c async workers on one thread, each awaiting one request at a time.', peer.FETCH_FLAGS, process.argv.slice(2), true);

const mode = { on: 1, auto: 2, off: 0 }[opt.verify];
if (mode === undefined) peer.die(prog, `--verify: '${opt.verify}' is not auto, on or off`);
const urls = [...args];
if (opt.input !== null) {
  let text;
  try { text = fs.readFileSync(opt.input === '-' ? 0 : opt.input, 'utf8'); } catch (e) {
    peer.die(prog, `-i ${opt.input}: ${e.code === 'ENOENT' ? 'No such file or directory' : e.message}`);
  }
  for (const line of text.split('\n')) {
    const s = line.trim();
    if (s && !s.startsWith('#')) urls.push(s);
  }
}
if (!urls.length) peer.die(prog, 'no URLs given');
const targets = urls.map((text) => {
  const expect = peer.checkUrl(prog, text);
  return { text, expect: mode ? expect : -1, verify: mode === 1 || (mode === 2 && expect >= 0) };
});
if (targets.length * opt.count > 100000000) peer.die(prog, `${targets.length * opt.count} fetches is too many (at most 100000000)`);
const jobs = targets.flatMap((t) => Array(opt.count).fill(t));
const inflight = Math.min(opt.concurrency, jobs.length);

// The pool: at most -c sockets, as many kept free for reuse with --keepalive;
// without it the Agent sends "Connection: close" and each request has its own
// connection, like the C fetchers.
const agent = new http.Agent({ keepAlive: opt.keepalive, maxSockets: inflight, maxFreeSockets: inflight });

// Words for a failure, the same as the C fetchers' (fetch_fail_errno).
function reasonOf(err, check, announced, head) {
  const c = err.code;
  if (c === 'ECONNREFUSED') return 'connection refused';
  if (c === 'HPE_INVALID_CONSTANT' || c === 'HPE_INVALID_STATUS' || c === 'HPE_INVALID_VERSION') return 'malformed status line';
  if (c === 'HPE_INVALID_CONTENT_LENGTH' || c === 'HPE_UNEXPECTED_CONTENT_LENGTH') return 'malformed Content-Length';
  if (!head && c === 'ECONNRESET' && err.message === 'socket hang up') return 'connection closed before the response';
  if (!head && c === 'ECONNRESET') return 'connection reset by peer';
  if (head) return check.failed(announced >= 0 ? `truncated body: ${check.off} of ${announced} bytes` : `truncated body after ${check.off} bytes`);
  return err.message;
}

const results = { ok: 0, failed: 0, bytes: 0, latencies: [], failures: [] };

function record(t, check, start, reason) {
  results.bytes += check.fetched();
  if (reason === null) {
    results.ok++;
    results.latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
  } else {
    results.failed++;
    if (results.failures.length < 20) results.failures.push(`${t.text}: ${reason}`);
  }
}

// One request; resolves once its result is recorded.
function fetchOne(t) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const check = new peer.BodyCheck(t);
    let announced = -1; // the Content-Length, once the headers are in
    let head = false;   // the response's head arrived
    let done = false;
    const finish = (reason) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      record(t, check, start, reason);
      resolve();
    };
    const req = http.get(t.text, { agent }, (res) => {
      head = true;
      check.status = res.statusCode; // an error page is read, not checked (the status first)
      const cl = res.headers['content-length'];
      announced = cl === undefined ? -1 : Number(cl);
      res.on('data', (chunk) => {
        if (!done && !check.feed(chunk)) {
          finish(check.reason);
          req.destroy(); // the rest of a wrong body is not read; the socket is not reused
        }
      });
      res.on('end', () => finish(check.judge(res.statusCode, announced)));
      res.on('error', (err) => finish(reasonOf(err, check, announced, true)));
      res.on('close', () => { if (!res.complete) finish(reasonOf({ code: 'ECONNRESET' }, check, announced, true)); });
    });
    req.on('error', (err) => finish(reasonOf(err, check, announced, head)));
    const timer = setTimeout(() => {
      finish(`timeout after ${opt.timeout} ms`);
      req.destroy();
    }, opt.timeout);
  });
}

async function main() {
  const t0 = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await fetchOne(jobs[next++]);
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const r = results;
  let out = '';
  if (!opt.quiet || r.failed) {
    const lat = r.latencies.sort((a, b) => a - b);
    out += `${prog}: fetched ${r.ok}, failed ${r.failed}, bytes ${r.bytes}, wall ${wall.toFixed(3)} s ` +
      `(${(wall > 0 ? r.ok / wall : 0).toFixed(0)} fetches/s, c=${inflight}${opt.keepalive ? ', keepalive' : ''})\n`;
    out += `${prog}: latency p50 ${peer.percentile(lat, 50).toFixed(2)} ms, p99 ${peer.percentile(lat, 99).toFixed(2)} ms, ` +
      `max ${(lat.length ? lat[lat.length - 1] : 0).toFixed(2)} ms\n`;
  }
  let err = r.failures.map((f) => `${prog}: failed ${f}\n`).join('');
  if (r.failed > r.failures.length) err += `${prog}: ... and ${r.failed - r.failures.length} more failures\n`;
  process.stdout.write(out);
  process.stderr.write(err);
  process.exitCode = r.failed ? 1 : 0;
  // Idle keep-alive connections would hold the loop open a few seconds more.
  setImmediate(() => process.exit(process.exitCode));
}

main();
