/**
 * The database drivers are optional peer dependencies, loaded on first use: importing this
 * package (or the reader that depends on it) never loads `pg` or `@aws-sdk/client-dynamodb`.
 */
import { DriverMissingError } from './errors.js';

function isModuleNotFound(err: unknown, specifier: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String(message).includes(specifier)
  );
}

/**
 * Imports an optional peer dependency through `load`; a missing package becomes a
 * {@link DriverMissingError} saying what to install.
 *
 * @example
 * const sdk = await importOptional('@aws-sdk/client-dynamodb', 'DynamoDB', () => import('@aws-sdk/client-dynamodb'));
 */
export async function importOptional<T>(
  specifier: string,
  backend: string,
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isModuleNotFound(err, specifier)) throw new DriverMissingError(backend, specifier, err);
    throw err;
  }
}

/** The DynamoDB client module (`@aws-sdk/client-dynamodb`), loaded once. */
let dynamoDb: Promise<typeof import('@aws-sdk/client-dynamodb')> | undefined;

/**
 * Loads `@aws-sdk/client-dynamodb` on first use.
 *
 * @example
 * const { GetItemCommand } = await loadDynamoDb();
 */
export function loadDynamoDb(): Promise<typeof import('@aws-sdk/client-dynamodb')> {
  dynamoDb ??= importOptional(
    '@aws-sdk/client-dynamodb',
    'DynamoDB',
    () => import('@aws-sdk/client-dynamodb'),
  ).catch((err: unknown) => {
    dynamoDb = undefined;
    throw err;
  });
  return dynamoDb;
}

/** The `pg` Pool class, loaded once. */
let pgPool: Promise<typeof import('pg').Pool> | undefined;

/**
 * Loads `pg` on first use and returns its `Pool` class (whether `pg` is seen as ESM or CJS).
 *
 * @example
 * const Pool = await loadPgPool();
 * const pool = new Pool({ connectionString });
 */
export function loadPgPool(): Promise<typeof import('pg').Pool> {
  pgPool ??= importOptional('pg', 'PostgreSQL', () => import('pg'))
    .then((mod) => {
      const m = mod as unknown as {
        Pool?: typeof import('pg').Pool;
        default?: { Pool?: typeof import('pg').Pool };
      };
      const Pool = m.Pool ?? m.default?.Pool;
      if (Pool === undefined) throw new Error('the pg module has no Pool export');
      return Pool;
    })
    .catch((err: unknown) => {
      pgPool = undefined;
      throw err;
    });
  return pgPool;
}
