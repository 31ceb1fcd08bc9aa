#!/usr/bin/env node
// Entry of the `sentinel` CLI. Checks Node first (a clear message, never a stack trace), then
// runs the TypeScript CLI through tsx so a fresh clone needs no build step.
import './check-node.mjs';

// `sentinel customers | head`: the reader went away; stop quietly, as ls and git do, never a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });

const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../infra/local/cli/index.ts');
process.exitCode = await main(process.argv.slice(2));
