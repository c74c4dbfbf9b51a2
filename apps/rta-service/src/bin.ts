#!/usr/bin/env node
/** Entry point of the `connect-wfm-rta` bin and of the production bundle. */
import { main } from './main.js';

main().then(
  (code) => {
    process.exitCode = code;
    // Leftover sockets or timers must not keep a stopped daemon alive.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err: unknown) => {
    process.stderr.write(
      `connect-wfm-rta: fatal: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`,
    );
    process.exit(1);
  },
);
