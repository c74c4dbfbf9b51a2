import { type ConfigProblem, ConnectWfmError, formatConfigProblems } from '@connect-wfm/core';

/** Codes of the errors this package throws. Bad records are never thrown; see `RejectedRecord`. */
export type RtaCollapserErrorCode = 'INVALID_OPTIONS' | 'INVALID_IMPORTED_STATE' | 'DELIVERY_STATE';

/**
 * Base class of the errors thrown by `@connect-wfm/rta-delta-collapser`. Only programming and
 * configuration mistakes are thrown (invalid options, an unusable imported state); a record that
 * is not a usable agent event is reported as a `RejectedRecord` instead.
 *
 * @example
 * try {
 *   new RtaDeltaCollapser({ dedupeWindow: -1 });
 * } catch (err) {
 *   if (err instanceof RtaCollapserError) console.error(err.code, err.message);
 * }
 */
export class RtaCollapserError extends ConnectWfmError<RtaCollapserErrorCode> {
  /** Never retryable: these are programming or configuration mistakes. */
  constructor(code: RtaCollapserErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options?.cause === undefined ? {} : { cause: options.cause });
  }
}

/**
 * Options given to `new RtaDeltaCollapser(...)` or `deriveState(...)` are invalid. The message
 * lists every problem at once.
 *
 * @example
 * new RtaDeltaCollapser({ mode: 'all' as never }); // throws RtaCollapserOptionsError
 */
export class RtaCollapserOptionsError extends RtaCollapserError {
  /** Every problem found (`path` in dotted form, `''` for the options object itself). */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super(
      'INVALID_OPTIONS',
      `Invalid rta-delta-collapser options: ${formatConfigProblems(problems)}. Fix the options and construct again.`,
      options,
    );
    this.problems = problems;
  }
}

/**
 * The state given to `importState(...)` is not a state written by `exportState()` (wrong
 * version, missing fields, duplicate agents). The collapser is left unchanged.
 *
 * @example
 * collapser.importState({ version: 2 }); // throws RtaStateImportError
 */
export class RtaStateImportError extends RtaCollapserError {
  /** Every problem found (`path` in dotted form, `''` for the state itself). */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super(
      'INVALID_IMPORTED_STATE',
      `Cannot import rta-delta-collapser state: ${formatConfigProblems(problems)}. Pass the unchanged output of exportState() (version 1 or 2), or start without importing.`,
      options,
    );
    this.problems = problems;
  }
}

/**
 * `beginDelivery` while another delivery is in flight, or `completeDelivery` with a delivery that
 * is not the one in flight: a programming mistake in the caller's loop.
 *
 * @example
 * collapser.beginDelivery();
 * collapser.beginDelivery(); // throws RtaDeliveryStateError
 */
export class RtaDeliveryStateError extends RtaCollapserError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DELIVERY_STATE', `rta-delta-collapser: ${message}.`, options);
  }
}
