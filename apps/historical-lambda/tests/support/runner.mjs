// A minimal stand-in for the Lambda Node.js runtime: imports the bundle once (the cold start),
// then runs invocations sent over IPC with an event and a context whose
// getRemainingTimeInMillis() counts down to a deadline, as the real runtime's does.
// usage (forked): node runner.mjs <bundle.mjs>
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * Peak RSS of this process in MB. Linux's VmHWM belongs to the address space, which execve
 * replaces; getrusage's maxRSS is preserved across execve, so it would report the parent's peak.
 */
function peakRssMb() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {}
  return process.resourceUsage().maxRSS / 1024;
}

const bundle = process.argv[2];
// Peak of each memory component, sampled every 50 ms (printed with each result when tracing).
const peaks = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
if (process.env.RUNNER_MEMORY_TRACE === '1') {
  setInterval(() => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peaks)) peaks[k] = Math.max(peaks[k], Math.round(m[k] / 1048576));
  }, 50).unref();
}
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
if (process.env.RUNNER_MEMORY_TRACE === '1')
  process.stderr.write(`INIT ${JSON.stringify(process.memoryUsage())}\n`);

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
    const cpuBefore = process.cpuUsage();
    const result = await mod[msg.handler](msg.event, context);
    const cpu = process.cpuUsage(cpuBefore);
    process.send({
      type: 'result',
      id: msg.id,
      result,
      peakRssMb: peakRssMb(),
      cpuMs: (cpu.user + cpu.system) / 1000,
      memory: peaks,
    });
  } catch (err) {
    process.send({ type: 'result', id: msg.id, error: { name: err?.name, message: err?.message } });
  }
});
