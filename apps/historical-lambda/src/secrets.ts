import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConnectWfmError } from '@connect-wfm/core';
import { z } from 'zod';
import type { LambdaConfig } from './config.js';

/** The SFTP credentials held in the secret. */
export type SftpCredentials =
  | { readonly password: string }
  | { readonly privateKey: string; readonly passphrase?: string };

const secretSchema = z.union([
  z.object({ password: z.string().min(1) }),
  z.object({ privateKey: z.string().min(1), passphrase: z.string().optional() }),
]);

/** The secret could not be read or has the wrong shape. Never contains the secret. */
export class SecretError extends ConnectWfmError<'SECRET_UNAVAILABLE' | 'SECRET_INVALID'> {}

let cached: Promise<SftpCredentials> | undefined;

/**
 * The SFTP credentials, fetched once per container (cached; a failed fetch is retried on the
 * next call).
 *
 * @example
 * const credentials = await sftpCredentials(config);
 */
export function sftpCredentials(config: LambdaConfig): Promise<SftpCredentials> {
  if (cached === undefined) {
    cached = fetchCredentials(config);
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}

async function fetchCredentials(config: LambdaConfig): Promise<SftpCredentials> {
  let text: string | undefined;
  const source =
    config.SFTP_SECRET_ID !== undefined
      ? `Secrets Manager secret ${config.SFTP_SECRET_ID}`
      : `SSM parameter ${config.SFTP_SECRET_PARAMETER}`;
  try {
    if (config.SFTP_SECRET_ID !== undefined) {
      const client = new SecretsManagerClient({});
      const out = await client.send(new GetSecretValueCommand({ SecretId: config.SFTP_SECRET_ID }));
      client.destroy();
      text = out.SecretString;
    } else {
      const client = new SSMClient({});
      const out = await client.send(
        new GetParameterCommand({ Name: config.SFTP_SECRET_PARAMETER, WithDecryption: true }),
      );
      client.destroy();
      text = out.Parameter?.Value;
    }
  } catch (err) {
    const name = (err as { name?: unknown }).name;
    throw new SecretError(
      'SECRET_UNAVAILABLE',
      `reading the SFTP credentials from the ${source} failed (${typeof name === 'string' ? name : 'Error'})`,
      { retryable: true },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    throw new SecretError(
      'SECRET_INVALID',
      `the ${source} is not JSON; expected {"password": ...} or {"privateKey": ..., "passphrase": ...}`,
    );
  }
  const parsed = secretSchema.safeParse(value);
  if (!parsed.success) {
    throw new SecretError(
      'SECRET_INVALID',
      `the ${source} holds neither "password" nor "privateKey" (keys found: ${
        value !== null && typeof value === 'object'
          ? Object.keys(value).join(', ') || 'none'
          : 'not an object'
      })`,
    );
  }
  const data = parsed.data;
  return 'password' in data
    ? { password: data.password }
    : {
        privateKey: data.privateKey,
        ...(data.passphrase !== undefined ? { passphrase: data.passphrase } : {}),
      };
}
