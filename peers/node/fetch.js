// fetch-node — the fetcher on Node's built-in fetch() (undici), with a bounded
// number in flight the way Node code usually bounds it: -c async workers, each
// awaiting one fetch() at a time and taking the next URL from a shared index.
// All on one thread: an await is where a worker lets the others run.
// The body is read as a stream (for await over response.body) and checked
// piece by piece; AbortSignal.timeout() bounds each request, connect to last byte.
'use strict';
const fs = require('node:fs');
const peer = require('./peer.js');

const prog = 'fetch-node';
const { vals: opt, args } = peer.parse(prog, '[flags] URL... | -i FILE',
  "Download many URLs at once with Node's fetch(): -c async workers on one thread,\n" +
  'each awaiting one request at a time.', peer.FETCH_FLAGS, process.argv.slice(2), true);

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

// Words for a failure, the same as the C fetchers' (fetch_fail_errno).
function reasonOf(err, check, announced) {
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `timeout after ${opt.timeout} ms`;
  const c = err.cause || {};
  if (c.code === 'ECONNREFUSED') return 'connection refused';
  if (c.code === 'ECONNRESET') return 'connection reset by peer';
  if (c.code === 'UND_ERR_SOCKET' && check.off === 0) return 'connection closed before the response';
  if (c.code === 'HPE_INVALID_CONSTANT' || c.code === 'HPE_INVALID_STATUS') return 'malformed status line';
  if (c.code === 'HPE_INVALID_CONTENT_LENGTH' || c.code === 'HPE_UNEXPECTED_CONTENT_LENGTH') return 'malformed Content-Length';
  if (c.code === 'UND_ERR_SOCKET' || c.code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || err.message === 'terminated')
    return check.failed(announced >= 0 ? `truncated body: ${check.off} of ${announced} bytes` : `truncated body after ${check.off} bytes`);
  return c.message ? `${err.message}: ${c.message}` : err.message;
}

const results = { ok: 0, failed: 0, bytes: 0, latencies: [], failures: [] };

async function fetchOne(t) {
  const start = process.hrtime.bigint();
  const check = new peer.BodyCheck(t);
  let reason;
  let announced = -1; // the Content-Length, once the headers are in
  try {
    const res = await fetch(t.text, {
      signal: AbortSignal.timeout(opt.timeout),
      redirect: 'manual',
      headers: opt.keepalive ? {} : { connection: 'close' }, // one connection per request, like the C fetchers
    });
    check.status = res.status; // an error page is read, not checked (the status first)
    announced = res.headers.has('content-length') ? Number(res.headers.get('content-length')) : -1;
    for await (const chunk of res.body || []) {
      if (!check.feed(chunk)) break;
    }
    reason = check.judge(res.status, announced);
  } catch (err) {
    reason = reasonOf(err, check, announced);
  }
  results.bytes += check.fetched();
  if (reason === null) {
    results.ok++;
    results.latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
  } else {
    results.failed++;
    if (results.failures.length < 20) results.failures.push(`${t.text}: ${reason}`);
  }
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
