// tasks/sleep.js — N promises that each resolve after S seconds
// (setTimeout), all awaited with Promise.all: the Node kind of
// `make bench-tasks` (docs/tasks.md).
//
//     node tasks/sleep.js N S
//
// Prints "started N" once every promise exists and "done in T s" at the end,
// like bin/tasks-sleep, for bin/tasks-run to read.
'use strict';

function usage(msg) {
  process.stderr.write(`sleep.js: ${msg} (usage: sleep.js N S)\n`);
  process.exit(2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 2) usage('want two arguments');
  const n = Number(args[0]), s = Number(args[1]);
  if (!Number.isInteger(n) || n < 1 || !(s >= 0)) usage('N must be a whole number >= 1 and S a number >= 0');
  const t0 = process.hrtime.bigint();
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(sleep(s * 1000));
  console.log(`started ${n}`);
  await Promise.all(tasks);
  console.log(`done in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2)} s`);
}

main();
