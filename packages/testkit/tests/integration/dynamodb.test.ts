import {
  CreateTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type DynaliteServer, startDynalite } from '@connect-wfm/testkit';

describe('startDynalite', () => {
  let dynamo: DynaliteServer;

  beforeAll(async () => {
    dynamo = await startDynalite();
  });

  afterAll(async () => {
    await dynamo.stop();
  });

  it('listens on 127.0.0.1 with a port chosen at run time', () => {
    expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(dynamo.endpoint).not.toMatch(/:4567$/);
  });

  it('puts and gets an item through the real SDK client', async () => {
    const client = dynamo.client();
    await client.send(
      new CreateTableCommand({
        TableName: 'roundtrip',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const described = await client.send(new DescribeTableCommand({ TableName: 'roundtrip' }));
    expect(described.Table?.TableStatus).toBe('ACTIVE');

    await client.send(
      new PutItemCommand({
        TableName: 'roundtrip',
        Item: { pk: { S: 'agent-1' }, state: { S: 'Available' }, n: { N: '42' } },
      }),
    );
    const got = await client.send(
      new GetItemCommand({
        TableName: 'roundtrip',
        Key: { pk: { S: 'agent-1' } },
        ConsistentRead: true,
      }),
    );
    expect(got.Item).toEqual({ pk: { S: 'agent-1' }, state: { S: 'Available' }, n: { N: '42' } });
  });

  it('enforces conditional writes', async () => {
    const client = dynamo.client();
    await client.send(
      new CreateTableCommand({
        TableName: 'conditional',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const put = () =>
      client.send(
        new PutItemCommand({
          TableName: 'conditional',
          Item: { pk: { S: 'x' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    await put();
    await expect(put()).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
  });
});
