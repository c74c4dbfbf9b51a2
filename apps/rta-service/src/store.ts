/** The checkpoint store named by `store` (file, DynamoDB or PostgreSQL). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type CheckpointStore,
  DynamoDbCheckpointStore,
  FileCheckpointStore,
  PostgresCheckpointStore,
} from '@connect-wfm/checkpoint-store';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { RtaServiceConfig } from './config.js';
import type { LibraryLogger } from './log.js';

/** The (application, stream) scope the daemon's checkpoints and state live under. */
export const APPLICATION = 'connect-wfm-rta';

/** Creates the store; the DynamoDB one uses the default credential chain (the daemon's own account). */
export function createStore(config: RtaServiceConfig, logger: LibraryLogger): CheckpointStore {
  const base = { application: APPLICATION, stream: config.stream, logger };
  const spec = config.store;
  if (spec.startsWith('file:')) {
    return new FileCheckpointStore({ ...base, path: spec.slice('file:'.length) });
  }
  if (spec.startsWith('dynamodb:')) {
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
  return new PostgresCheckpointStore({ ...base, connectionString: spec });
}
