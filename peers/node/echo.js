// echo-node — the echo server on Node's `net` module, written as its
// documentation's own example is: net.createServer() calls the handler once
// per connection, and socket.pipe(socket) sends back whatever arrives. The
// stream pipe does the waiting: it pauses reading while the socket's write
// buffer is full and ends the socket after the peer's end, once all is sent.
// Everything runs on one thread, over libuv's event loop (epoll): the same
// model as the C loop, with callbacks where the C loop has coroutines.
'use strict';
const net = require('node:net');
const peer = require('./peer.js');

const prog = 'echo-node';
const opts = peer.serverFlags(prog,
  'An echo server on Node\'s net module: a socket per connection, piped to itself,\n' +
  'all on one thread over libuv. SIGINT or SIGTERM stops it.', process.argv.slice(2));

const server = net.createServer((socket) => {
  socket.on('error', () => socket.destroy()); // a reset: drop this one, serve the rest
  if (opts.work === 0) {
    socket.pipe(socket);
    return;
  }
  // --work: the same flow by hand, with the work on each piece read.
  socket.on('data', (data) => {
    peer.workDo(opts.work, data);
    if (!socket.write(data)) socket.pause(); // resume once the write buffer drains
  });
  socket.on('drain', () => socket.resume());
});

let lastComplaint = 0;
server.on('error', (err) => {
  if (!server.listening) { // port in use, bad address: one line, exit 1
    process.stderr.write(`${prog}: cannot listen on ${opts.bind}:${opts.port}: ${peer.strerror(err)}\n`);
    process.exit(1);
  }
  // accept() failed (EMFILE: out of descriptors); libuv refuses one pending
  // connection and keeps listening. Say so at most once a second.
  const now = Math.floor(Date.now() / 1000);
  if (now !== lastComplaint) {
    lastComplaint = now;
    process.stderr.write(`${prog}: accept: ${err.code === 'EMFILE' ? 'Too many open files' : err.message}; refusing new connections for a moment\n`);
  }
});

server.listen({ host: opts.bind, port: opts.port, backlog: opts.backlog }, () => {
  const a = server.address();
  process.stdout.write(`listening on ${a.address}:${a.port}\n`);
});

// Stop: the open connections go with the process.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
