import {
  type ConfigProblem,
  ConnectWfmError,
  type ConnectWfmErrorOptions,
  formatConfigProblems,
} from '@connect-wfm/core';

/** Codes of {@link SimulatorError}. */
export type SimulatorErrorCode =
  | 'invalid-options'
  | 'kinesis-put-failed'
  | 's3-put-failed'
  | 'sqs-send-failed'
  | 'encryption-failed';

/**
 * The simulator's error: core's `ConnectWfmError` with a {@link SimulatorErrorCode} and
 * `retryable`, the cause forwarded.
 *
 * @example
 * try { await simulator.run(); } catch (err) { if (err instanceof SimulatorError) console.log(err.code, err.retryable); }
 */
export class SimulatorError extends ConnectWfmError<SimulatorErrorCode> {
  constructor(code: SimulatorErrorCode, message: string, options: ConnectWfmErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * Options that do not validate; `problems` lists every problem at once.
 *
 * @example
 * try { new ConnectSimulator({ agents: -1, sinks: [] }); } catch (err) { if (err instanceof SimulatorOptionsError) console.log(err.problems); }
 */
export class SimulatorOptionsError extends SimulatorError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super('invalid-options', `invalid simulator options: ${formatConfigProblems(problems)}`);
    this.problems = problems;
  }
}
