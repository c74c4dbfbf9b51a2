/**
 * Hosts the historical Lambda module in a child process, as the Lambda runtime would: imports it
 * once (its cold start reads the environment), then runs `drain` or `handler` when asked over IPC.
 * usage (forked): node --import tsx lambda-host.ts <module path>
 */
import { pathToFileURL } from 'node:url';

interface InvokeMessage {
  readonly type: 'invoke';
  readonly id: number;
  readonly handler: string;
  readonly event: unknown;
  readonly timeoutMs: number;
}

const modulePath = process.argv[2] ?? '';
let mod: Record<string, unknown> | undefined;
let initError: string | undefined;
try {
  mod = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
} catch (err) {
  initError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
process.send?.({ type: 'ready', initError });

process.on('message', async (raw: unknown) => {
  const msg = raw as InvokeMessage | { type: 'exit' };
  if (msg.type === 'exit') process.exit(0);
  if (msg.type !== 'invoke') return;
  const deadline = Date.now() + msg.timeoutMs;
  const context = {
    awsRequestId: `demo-${msg.id}`,
    functionName: 'historical-lambda',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const fn = mod?.[msg.handler];
    if (typeof fn !== 'function') throw new Error(initError ?? `no handler ${msg.handler}`);
    const result = await (fn as (e: unknown, c: unknown) => Promise<unknown>)(msg.event, context);
    process.send?.({ type: 'result', id: msg.id, result });
  } catch (err) {
    process.send?.({
      type: 'result',
      id: msg.id,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
  }
});
