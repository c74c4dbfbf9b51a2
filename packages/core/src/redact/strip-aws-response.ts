import { types } from 'node:util';
import { rebuildChain } from './chain.js';

/** Fields of AWS SDK errors (and HTTP client errors) that can hold requests, responses or credentials. */
export const AWS_DROPPED_FIELDS: ReadonlySet<PropertyKey> = new Set<PropertyKey>([
  '$response',
  '$responseBodyText',
  '$request',
  'request',
  'response',
  'config',
  'credentials',
]);

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

/** The `cause` to follow: an own data property only (a getter is neither called nor replaced). */
function ownCause(node: object): { value: unknown } | undefined {
  const desc = Object.getOwnPropertyDescriptor(node, 'cause');
  return desc !== undefined && 'value' in desc ? { value: desc.value } : undefined;
}

/**
 * True when the copy's `name` and `message` can be read. They cannot on a copy of an object whose
 * class keeps them in internal slots (`DOMException`, a class with private fields): its prototype's
 * getters refuse any other receiver.
 */
function readable(copy: object): boolean {
  try {
    const { name, message } = copy as { name?: unknown; message?: unknown };
    String(name);
    String(message);
    return true;
  } catch {
    return false;
  }
}

/** A plain `Error` with the original's name, message, stack and own fields, but those dropped. */
function plainCopy(node: object): Error {
  const original = node as { name?: unknown; message?: unknown; stack?: unknown };
  const copy = new Error(String(original.message));
  Object.defineProperty(copy, 'name', {
    value: String(original.name),
    writable: true,
    configurable: true,
    enumerable: false,
  });
  if (typeof original.stack === 'string') copy.stack = original.stack;
  for (const key of Reflect.ownKeys(node)) {
    if (AWS_DROPPED_FIELDS.has(key) || key === 'cause' || key === 'stack') continue;
    const desc = Object.getOwnPropertyDescriptor(node, key);
    if (desc !== undefined) Object.defineProperty(copy, key, desc);
  }
  return copy;
}

/**
 * Returns `error` without the fields that can hold requests, responses or credentials
 * ({@link AWS_DROPPED_FIELDS}), at any depth of its `cause` chain.
 *
 * AWS SDK v3 errors carry a hidden, non-configurable `$response`: the raw HTTP response, whose
 * request and socket hold the signed headers (the access key id in `Authorization`,
 * `x-amz-security-token`), which `util.inspect(err, { showHidden: true })` prints. Such a field
 * cannot be deleted, so an error holding one is replaced by a copy with the same prototype (so
 * `instanceof`, `name`, `message`, `stack`, `code`, `$fault`, `$metadata` and every other field still
 * work) without it.
 *
 * - The same object is returned when the chain holds none of those fields; non-objects are returned
 *   unchanged.
 * - The chain follows own data properties named `cause`, of any object, to depth
 *   {@link MAX_CAUSE_DEPTH}; a longer chain is cut there (the copy at that depth has no cause). A
 *   cycle is kept.
 * - Messages are not searched for secrets; use {@link sanitizeCause} for that.
 *
 * @param error - what an AWS SDK call threw, or an error wrapping it
 * @returns `error`, or a copy without those fields
 *
 * @example
 * try {
 *   await client.send(new GetItemCommand(input));
 * } catch (err) {
 *   throw new BackendError(`could not read ${table}`, { cause: stripAwsResponse(err) });
 * }
 */
export function stripAwsResponse(error: unknown): unknown {
  if (!isObject(error)) return error;
  return rebuildChain<object>(error, {
    isLink: isObject,
    causeOf: ownCause,
    isDirty: (node) => Reflect.ownKeys(node).some((key) => AWS_DROPPED_FIELDS.has(key)),
    cleanTail: (value) => value,
    copy: (node) => {
      // A native error stays one (util.inspect then prints its stack, types.isNativeError holds).
      const copy = types.isNativeError(node) ? new Error() : {};
      Object.setPrototypeOf(copy, Object.getPrototypeOf(node) as object | null);
      for (const key of Reflect.ownKeys(node)) {
        if (AWS_DROPPED_FIELDS.has(key)) continue;
        const desc = Object.getOwnPropertyDescriptor(node, key);
        if (desc === undefined || (key === 'cause' && 'value' in desc)) continue;
        if (key === 'stack' && !('value' in desc)) {
          // Node 22+ (V8 12) makes `stack` an accessor that formats the receiver's own captured
          // trace: copied as is, it would show where the copy was made. Keep the original text.
          Object.defineProperty(copy, key, {
            value: (node as { stack?: unknown }).stack,
            writable: true,
            configurable: true,
            enumerable: desc.enumerable ?? false,
          });
          continue;
        }
        Object.defineProperty(copy, key, desc);
      }
      return readable(copy) ? copy : plainCopy(node);
    },
    link: (copy, original, value) => {
      const desc = Object.getOwnPropertyDescriptor(original, 'cause');
      Object.defineProperty(copy, 'cause', { ...desc, value });
    },
  });
}
