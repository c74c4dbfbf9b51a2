/**
 * The JSON text of a committed state in pieces, for a backend that writes it out as it goes
 * (the file store): an RTA state of 50,000 agents is ~17 MB of JSON, and producing it as one
 * string doubles the memory a commit needs. The pieces, joined, are exactly `JSON.stringify`'s
 * text. The top two levels of plain objects and arrays are walked here; each value below them
 * (one agent of a state `{ version, agents: [...] }`) is one `JSON.stringify` call.
 */
import { InvalidArgumentError } from './errors.js';

/** Levels of plain objects and arrays walked before a value is stringified whole. */
const WALKED_LEVELS = 2;

/** The error for a state that JSON cannot carry (a cycle, a bigint); `serializeState` uses it too. */
export function notJson(scope: string, err: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    `the state given to commit() on ${scope} cannot be written as JSON (${err instanceof Error ? err.message : String(err)}); give plain data (objects, arrays, strings, numbers, booleans, null).`,
    { cause: err },
  );
}

/** True for an array or object that `JSON.stringify` serialises member by member. */
function walkable(value: unknown): value is Record<string, unknown> | unknown[] {
  if (value === null || typeof value !== 'object') return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `JSON.stringify(value)`, with errors (a cycle, a bigint) as `InvalidArgumentError`. */
function stringify(scope: string, value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw notJson(scope, err);
  }
}

/** Yields the members of a walkable `value` at `level` (0 = the state itself). */
function* walk(
  scope: string,
  value: Record<string, unknown> | unknown[],
  level: number,
  ancestors: Set<object>,
): Generator<string> {
  if (ancestors.has(value)) {
    throw notJson(scope, new TypeError('Converting circular structure to JSON'));
  }
  ancestors.add(value);
  const deeper = level + 1 < WALKED_LEVELS;
  if (Array.isArray(value)) {
    yield '[';
    for (let i = 0; i < value.length; i += 1) {
      const item = value[i];
      if (deeper && walkable(item)) {
        if (i > 0) yield ',';
        yield* walk(scope, item, level + 1, ancestors);
      } else {
        // as JSON.stringify: undefined, functions and symbols in an array are null
        yield `${i > 0 ? ',' : ''}${stringify(scope, item) ?? 'null'}`;
      }
    }
    yield ']';
  } else {
    yield '{';
    let first = true;
    for (const key of Object.keys(value)) {
      const item = value[key];
      if (deeper && walkable(item)) {
        yield `${first ? '' : ','}${JSON.stringify(key)}:`;
        yield* walk(scope, item, level + 1, ancestors);
      } else {
        const text = stringify(scope, item);
        // as JSON.stringify: members without a JSON text (undefined, functions) are left out
        if (text === undefined) continue;
        yield `${first ? '' : ','}${JSON.stringify(key)}:${text}`;
      }
      first = false;
    }
    yield '}';
  }
  ancestors.delete(value);
}

/**
 * Checks that `state` has a JSON text at all (not undefined, a function or a symbol); deeper
 * problems (a cycle, a bigint) surface from {@link jsonChunks} as `InvalidArgumentError`.
 */
export function assertJsonValue(scope: string, state: unknown): void {
  if (walkable(state)) return;
  if (stringify(scope, state) === undefined) throw notJsonValue(scope, state);
}

/** The error for a state with no JSON text at all; `serializeState` uses it too. */
export function notJsonValue(scope: string, state: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    `the state given to commit() on ${scope} must be a JSON value (object, array, string, number, boolean or null), got ${typeof state}`,
  );
}

/** The JSON text of `state` in pieces; joined, they equal `JSON.stringify(state)`. */
export function* jsonChunks(scope: string, state: unknown): Generator<string> {
  if (walkable(state)) {
    yield* walk(scope, state, 0, new Set());
    return;
  }
  const text = stringify(scope, state);
  if (text === undefined) assertJsonValue(scope, state);
  yield text as string;
}
