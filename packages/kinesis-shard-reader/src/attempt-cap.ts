/**
 * Thrown inside the SDK's retry loop once a command has used its attempts, so the SDK stops
 * retrying (the error is neither throttling nor transient to the SDK). The reader unwraps it.
 * The original error is kept in `original`, not `cause`: the SDK looks into `cause` when it
 * decides whether an error is transient.
 */
export class AttemptsExhausted extends Error {
  readonly original: unknown;

  constructor(original: unknown) {
    super('SDK attempts for this command are used up');
    this.name = 'KinesisShardReaderAttemptsExhausted';
    this.original = original;
  }
}

/**
 * Unwraps {@link AttemptsExhausted}.
 *
 * @example
 * try { await client.send(cmd); } catch (err) { throw unwrapAttempts(err); }
 */
export function unwrapAttempts(error: unknown): unknown {
  return error instanceof AttemptsExhausted ? error.original : error;
}

type Handler = (args: never) => Promise<unknown>;

/** The part of an SDK command's middleware stack this module uses (structural, no extra dependency). */
interface WithMiddlewareStack {
  readonly middlewareStack: {
    add(
      middleware: (next: Handler) => Handler,
      options: { step: 'finalizeRequest'; priority: 'low'; name: string },
    ): void;
  };
}

/**
 * Caps the SDK's attempts for one command at `maxAttempts`, whatever the client's own
 * `maxAttempts` is: a middleware inside the SDK's retry loop counts attempts and, once they are
 * used up, turns the error into one the SDK does not retry.
 *
 * @example
 * const cmd = new GetRecordsCommand({ ShardIterator: it });
 * capAttempts(cmd, 2);
 * await client.send(cmd);
 */
export function capAttempts<C extends WithMiddlewareStack>(command: C, maxAttempts: number): C {
  let attempts = 0;
  command.middlewareStack.add(
    (next) => async (args) => {
      attempts += 1;
      try {
        return await next(args);
      } catch (err) {
        if (attempts >= maxAttempts) throw new AttemptsExhausted(err);
        throw err;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'connectWfmAttemptCap' },
  );
  return command;
}
