// A minimal stand-in for the Lambda Node.js runtime: imports the bundle once (the cold start),
// then runs invocations sent over IPC with an event and a context whose
// getRemainingTimeInMillis() counts down to a deadline, as the real runtime's does.
// usage (forked): node runner.mjs <bundle.mjs>
import { pathToFileURL } from 'node:url';

const bundle = process.argv[2];
const started = performance.now();
let mod;
let initError;
try {
  mod = await import(pathToFileURL(bundle).href);
} catch (err) {
  initError = { name: err?.name, message: err?.message, code: err?.code };
}
const initMs = performance.now() - started;
process.send({ type: 'ready', initError, initMs, rssMb: process.memoryUsage().rss / 1048576 });

process.on('message', async (msg) => {
  if (msg?.type === 'exit') {
    process.exit(0);
  }
  if (msg?.type !== 'invoke') return;
  const deadline = Date.now() + msg.timeoutMs;
  let calls = 0;
  const context = {
    awsRequestId: msg.id,
    functionName: 'historical-lambda',
    getRemainingTimeInMillis: () => {
      calls++;
      // `fullCalls`: a test's way to make time run short after a given number of checks.
      if (msg.fullCalls !== undefined && calls > msg.fullCalls) return 1;
      return Math.max(0, deadline - Date.now());
    },
  };
  try {
    if (mod === undefined) throw new Error(`init failed: ${initError?.message}`);
    const result = await mod[msg.handler](msg.event, context);
    process.send({ type: 'result', id: msg.id, result });
  } catch (err) {
    process.send({ type: 'result', id: msg.id, error: { name: err?.name, message: err?.message } });
  }
});
