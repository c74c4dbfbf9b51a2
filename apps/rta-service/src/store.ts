/**
 * The checkpoint store named by `store` (file, DynamoDB or PostgreSQL). The DynamoDB and
 * PostgreSQL backends (and their SDK / driver) are imported only when selected: in the bundle
 * they are separate chunks, so a daemon on the file store never loads them (peak RSS, see
 * DESIGN.md#memory).
 */
import { type CheckpointStore, FileCheckpointStore } from '@connect-wfm/checkpoint-store';
import type { RtaServiceConfig } from './config.js';
import type { LibraryLogger } from './log.js';

/** The (application, stream) scope the daemon's checkpoints and state live under. */
export const APPLICATION = 'connect-wfm-rta';

/** Creates the store; the DynamoDB one uses the default credential chain (the daemon's own account). */
export async function createStore(
  config: RtaServiceConfig,
  logger: LibraryLogger,
): Promise<CheckpointStore> {
  const base = { application: APPLICATION, stream: config.stream, logger };
  const spec = config.store;
  if (spec.startsWith('file:')) {
    return new FileCheckpointStore({ ...base, path: spec.slice('file:'.length) });
  }
  if (spec.startsWith('dynamodb:')) {
    const [{ DynamoDBClient }, { NodeHttpHandler }, { DynamoDbCheckpointStore }] =
      await Promise.all([
        import('@aws-sdk/client-dynamodb'),
        import('@smithy/node-http-handler'),
        import('@connect-wfm/checkpoint-store/dynamodb'),
      ]);
    const client = new DynamoDBClient({
      region: config.region,
      ...(config.dynamodbEndpoint === undefined ? {} : { endpoint: config.dynamodbEndpoint }),
      requestHandler: new NodeHttpHandler({ connectionTimeout: 5000 }),
    });
    return new DynamoDbCheckpointStore({
      ...base,
      client,
      destroyClientOnClose: true,
      tableName: spec.slice('dynamodb:'.length),
    });
  }
  const { PostgresCheckpointStore } = await import('@connect-wfm/checkpoint-store/postgres');
  return new PostgresCheckpointStore({ ...base, connectionString: spec });
}
