import type { Logger, RtaState } from '../src/index.js';

/** `n` states `agent.0000 …` with the given code. */
export function agents(n: number, stateCode = 'Available', prefix = 'agent'): RtaState[] {
  return Array.from({ length: n }, (_, i) => ({
    userCode: `${prefix}.${String(i).padStart(5, '0')}`,
    stateCode,
    stateDescription: stateCode,
  }));
}

/** A logger that keeps every line (message and details) as text. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (message: string, details?: Record<string, unknown>): void => {
      lines.push(`${level} ${message} ${details === undefined ? '' : JSON.stringify(details)}`);
    };
  return {
    lines,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
}

/** Small retry delays so fault tests stay fast. */
export const FAST_RETRY = { initialDelayMs: 5, maxDelayMs: 20 } as const;

/** Polls `check` every 10 ms, at most `timeoutMs`. */
export async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
