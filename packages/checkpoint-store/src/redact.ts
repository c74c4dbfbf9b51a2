/**
 * Keeps secrets out of the causes kept in errors. AWS SDK errors carry a hidden, non-configurable
 * `$response` (the raw HTTP response, whose request and socket hold the signed headers: the
 * access key id in `Authorization` and `x-amz-security-token`), which `util.inspect(err,
 * { showHidden: true })` prints. A cause is replaced by a copy with the same prototype (so
 * `instanceof` and `name`, `message`, `code`, `$fault`, `$metadata` still work) without those
 * fields; its own `cause` chain is cleaned the same way.
 */

/** Fields that can hold requests, responses or credentials. */
const DROPPED = new Set<PropertyKey>([
  '$response',
  '$responseBodyText',
  '$request',
  'request',
  'response',
  'config',
  'credentials',
]);

/**
 * Returns `error` without request, response or credential data (the same object when it holds
 * none). Non-objects are returned unchanged.
 *
 * @example
 * throw new BackendError(`could not read ${table}`, { cause: redactCause(sdkError) });
 */
export function redactCause(error: unknown, depth = 0): unknown {
  if (typeof error !== 'object' || error === null || depth > 8) return error;
  const keys = Reflect.ownKeys(error);
  const causeDesc = Object.getOwnPropertyDescriptor(error, 'cause');
  const cleanCause =
    causeDesc !== undefined && 'value' in causeDesc
      ? redactCause(causeDesc.value, depth + 1)
      : undefined;
  const causeChanged =
    causeDesc !== undefined && 'value' in causeDesc && cleanCause !== causeDesc.value;
  if (!causeChanged && !keys.some((k) => DROPPED.has(k))) return error;
  const copy = Object.create(Object.getPrototypeOf(error) as object | null) as object;
  for (const key of keys) {
    if (DROPPED.has(key)) continue;
    const desc = Object.getOwnPropertyDescriptor(error, key);
    if (desc === undefined) continue;
    if (key === 'cause' && 'value' in desc) desc.value = cleanCause;
    Object.defineProperty(copy, key, desc);
  }
  return copy;
}
