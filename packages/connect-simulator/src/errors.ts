/** Codes of {@link SimulatorError}. */
export type SimulatorErrorCode =
  | 'invalid-options'
  | 'kinesis-put-failed'
  | 's3-put-failed'
  | 'sqs-send-failed'
  | 'encryption-failed';

/** Options of {@link SimulatorError}. */
export interface SimulatorErrorOptions {
  readonly cause?: unknown;
  /** Whether trying again may succeed. @default false */
  readonly retryable?: boolean;
}

/**
 * The simulator's error: a string `code`, `retryable`, and the cause forwarded.
 *
 * @example
 * try { await simulator.run(); } catch (err) { if (err instanceof SimulatorError) console.log(err.code); }
 */
export class SimulatorError extends Error {
  readonly code: SimulatorErrorCode;
  readonly retryable: boolean;

  constructor(code: SimulatorErrorCode, message: string, options: SimulatorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** One problem of the simulator's options. */
export interface OptionProblem {
  /** Dotted path of the option (`''` for the root). */
  readonly path: string;
  readonly message: string;
}

/**
 * Options that do not validate; `problems` lists every problem at once.
 *
 * @example
 * try { new ConnectSimulator({ agents: -1 }); } catch (err) { if (err instanceof SimulatorOptionsError) console.log(err.problems); }
 */
export class SimulatorOptionsError extends SimulatorError {
  readonly problems: readonly OptionProblem[];

  constructor(problems: readonly OptionProblem[]) {
    super(
      'invalid-options',
      `invalid simulator options: ${problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; ')}`,
    );
    this.problems = problems;
  }
}
