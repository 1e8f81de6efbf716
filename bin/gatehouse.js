#!/usr/bin/env node
// The `gatehouse` command. Node >= 22.18 runs the TypeScript sources directly (type stripping).
import { main } from '../src/main.ts';

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.stack : err); process.exitCode = 1; },
);
