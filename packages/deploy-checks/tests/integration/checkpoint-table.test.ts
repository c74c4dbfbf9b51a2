import { CreateTableCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDbCheckpointStore } from '@connect-wfm/checkpoint-store/dynamodb';
import { type DynaliteServer, startDynalite } from '@connect-wfm/testkit';
import { prop, template } from '../support.js';

// The table the template creates, created the same way in dynalite, must be one the
// checkpoint store accepts and works with (it checks the key schema of an existing table).
describe('rta-feed.yaml: the checkpoint table works with the DynamoDB checkpoint store', () => {
  let dynamo: DynaliteServer;

  beforeAll(async () => {
    dynamo = await startDynalite();
  });

  afterAll(async () => {
    await dynamo.stop();
  });

  it('stores and reads back a checkpoint in the table as the template defines it', async () => {
    const t = template('rta-feed.yaml');
    const input = {
      TableName: 'connect-wfm-checkpoints',
      BillingMode: prop(t, 'CheckpointTable', 'BillingMode'),
      KeySchema: prop(t, 'CheckpointTable', 'KeySchema'),
      AttributeDefinitions: prop(t, 'CheckpointTable', 'AttributeDefinitions'),
    } as unknown as CreateTableCommandInput;
    await dynamo.client().send(new CreateTableCommand(input));

    const store = new DynamoDbCheckpointStore({
      application: 'connect-wfm-rta',
      stream: 'agent-events',
      client: dynamo.client(),
      tableName: 'connect-wfm-checkpoints',
      createTable: false,
    });
    const sequenceNumber = '49590338271490256608559692538361571095921575989136588898';
    await store.put('shardId-000000000000', { sequenceNumber });
    const read = await store.get('shardId-000000000000');
    expect(read?.sequenceNumber).toBe(sequenceNumber);
    await store.close();
  });
});
