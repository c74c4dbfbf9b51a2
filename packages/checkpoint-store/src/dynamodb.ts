/**
 * `@connect-wfm/checkpoint-store/dynamodb`: the DynamoDB backend. Needs the optional peer
 * dependency `@aws-sdk/client-dynamodb`, loaded on first use (a missing package fails that call
 * with `DriverMissingError`).
 *
 * @example
 * import { DynamoDbCheckpointStore } from '@connect-wfm/checkpoint-store/dynamodb';
 *
 * const store = new DynamoDbCheckpointStore({ application: 'rta', stream: 'agent-events', tableName: 'connect-wfm-checkpoints', region: 'eu-west-1' });
 */
export { DYNAMODB_SCOPE_SORT_KEY, DynamoDbCheckpointStore } from './dynamodb-store.js';
export type { DynamoDbCheckpointStoreOptions } from './dynamodb-types.js';
