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
export class RtaCollapserError extends Error {
  /** Machine-readable error code. */
  readonly code: RtaCollapserErrorCode;

  constructor(code: RtaCollapserErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RtaCollapserError';
    this.code = code;
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
  /** Every problem found, as `path: message`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(
      'INVALID_OPTIONS',
      `Invalid rta-delta-collapser options: ${problems.join('; ')}. Fix the options and construct again.`,
      options,
    );
    this.name = 'RtaCollapserOptionsError';
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
  /** Every problem found, as `path: message`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(
      'INVALID_IMPORTED_STATE',
      `Cannot import rta-delta-collapser state: ${problems.join('; ')}. Pass the unchanged output of exportState() (version 1), or start without importing.`,
      options,
    );
    this.name = 'RtaStateImportError';
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
    this.name = 'RtaDeliveryStateError';
  }
}
