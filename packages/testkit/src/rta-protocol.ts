/**
 * Public wire facts of the Teleopti RTA web service as the testkit receiver answers them: limits,
 * error messages and the synchronous generations' "No person found" text
 * (docs/teleopti-rta.md#server-generations).
 */

/** State code (and description) the server gives an agent that a snapshot logs out. */
export const RTA_SNAPSHOT_LOGGED_OUT_STATE = 'CCC Logged out';
/** Authentication key of a receiver started without `authenticationKey`. */
export const DEFAULT_RTA_AUTHENTICATION_KEY = 'testkit-rta-authentication-key';
/** Longest state code the server accepts. */
export const RTA_MAX_STATE_CODE_LENGTH = 300;
/**
 * Most states of the oldest (array-body) server generation, which this receiver does not emulate.
 * Kept for compatibility; no mode of the receiver enforces it.
 */
export const RTA_LEGACY_MAX_BATCH_SIZE = 50;
/** Queued batches from which a current server answers "State queue is flooded". */
export const RTA_FLOOD_THRESHOLD = 100;
/** How often a current server re-checks its queue length for the flood answer, in ms. */
export const RTA_FLOOD_CHECK_INTERVAL_MS = 3000;

/** The 500 a synchronous server answers after applying a snapshot when no state group is logged-out. */
export const RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE = 'No Logged out StateGroup found';

/** The server's answer to a wrong or missing authentication key (400). */
export const RTA_INVALID_KEY_MESSAGE =
  'You supplied an invalid authentication key. Please verify the key and try again.';

/** What .NET says when the server meets a duplicate user code in a batch (500, some versions). */
export const RTA_DUPLICATE_USER_CODE_MESSAGE = 'Sequence contains more than one matching element';

/** What ASP.NET says when the body is not JSON or lacks `States` (500: a null reference). */
export const RTA_NULL_REFERENCE_MESSAGE = 'Object reference not set to an instance of an object.';

/**
 * The `No person found` message of a synchronous server.
 *
 * @example
 * rtaNoPersonFoundMessage('ghost', 3, '1'); // 'No person found for UserCode ghost, DataSourceId 3, SourceId 1'
 */
export function rtaNoPersonFoundMessage(
  userCode: string,
  dataSourceId: number,
  sourceId: string,
): string {
  return `No person found for UserCode ${userCode}, DataSourceId ${dataSourceId}, SourceId ${sourceId}`;
}
