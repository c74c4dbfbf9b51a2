// The permissions follow the code: every AWS call the apps and their packages make is granted,
// and every grant is either such a call or listed here with the reason.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { policyStatements } from '../../src/index.js';
import { REPO, template } from '../support.js';

/** The IAM action(s) each SDK command needs. A command missing here fails the test: add it. */
const COMMAND_ACTIONS: Record<string, readonly string[]> = {
  GetObjectCommand: ['s3:GetObject'],
  HeadObjectCommand: ['s3:GetObject'],
  PutObjectCommand: ['s3:PutObject'],
  GetObjectTaggingCommand: ['s3:GetObjectTagging'],
  PutObjectTaggingCommand: ['s3:PutObjectTagging'],
  ReceiveMessageCommand: ['sqs:ReceiveMessage'],
  DeleteMessageCommand: ['sqs:DeleteMessage'],
  DeleteMessageBatchCommand: ['sqs:DeleteMessage'],
  ChangeMessageVisibilityCommand: ['sqs:ChangeMessageVisibility'],
  ChangeMessageVisibilityBatchCommand: ['sqs:ChangeMessageVisibility'],
  GetQueueAttributesCommand: ['sqs:GetQueueAttributes'],
  DecryptCommand: ['kms:Decrypt'],
  GetSecretValueCommand: ['secretsmanager:GetSecretValue'],
  GetParameterCommand: ['ssm:GetParameter'],
  DescribeStreamCommand: ['kinesis:DescribeStream'],
  DescribeStreamSummaryCommand: ['kinesis:DescribeStreamSummary'],
  ListShardsCommand: ['kinesis:ListShards'],
  GetShardIteratorCommand: ['kinesis:GetShardIterator'],
  GetRecordsCommand: ['kinesis:GetRecords'],
  SubscribeToShardCommand: ['kinesis:SubscribeToShard'],
  DescribeTableCommand: ['dynamodb:DescribeTable'],
  CreateTableCommand: ['dynamodb:CreateTable'],
  GetItemCommand: ['dynamodb:GetItem'],
  PutItemCommand: ['dynamodb:PutItem'],
  UpdateItemCommand: ['dynamodb:UpdateItem'],
  DeleteItemCommand: ['dynamodb:DeleteItem'],
  QueryCommand: ['dynamodb:Query'],
  BatchWriteItemCommand: ['dynamodb:BatchWriteItem'],
  BatchGetItemCommand: ['dynamodb:BatchGetItem'],
  TransactWriteItemsCommand: [
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
    'dynamodb:UpdateItem',
    'dynamodb:ConditionCheckItem',
  ],
  AssumeRoleCommand: ['sts:AssumeRole'],
};

/** The `new XxxCommand(` (or `new sdk.XxxCommand(`) calls in the TypeScript sources under these paths (tests excluded). */
function commandsIn(paths: readonly string[]): Set<string> {
  const found = new Set<string>();
  const visit = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) {
      for (const m of readFileSync(path, 'utf8').matchAll(
        /\bnew (?:[\w#$]+\.)*([A-Z][A-Za-z]+Command)\s*\(/g,
      )) {
        found.add(m[1] as string);
      }
    }
  };
  for (const p of paths) visit(join(REPO, p));
  return found;
}

function actionsFor(commands: Set<string>): string[] {
  const unknown = [...commands].filter((c) => COMMAND_ACTIONS[c] === undefined);
  expect(unknown).toEqual([]);
  return [...new Set([...commands].flatMap((c) => COMMAND_ACTIONS[c] ?? []))].sort();
}

function granted(
  file: 'historical-feed.yaml' | 'rta-feed.yaml',
  resourceId: string,
  sids?: readonly string[],
): string[] {
  return [
    ...new Set(
      policyStatements(template(file))
        .filter((s) => s.resourceId === resourceId && s.kind === 'identity' && s.effect === 'Allow')
        .filter((s) => sids === undefined || sids.includes(s.sid))
        .flatMap((s) => s.actions),
    ),
  ].sort();
}

describe('historical-feed.yaml: the function role follows the Lambda code', () => {
  const needed = actionsFor(
    commandsIn([
      'apps/historical-lambda/src',
      'packages/historical-feed/src',
      'packages/s3-cse-reader/src',
    ]),
  );
  /** Called by the code, deliberately not granted. */
  const NOT_DEPLOYED: Record<string, string> = {
    'ssm:GetParameter':
      'SFTP_SECRET_PARAMETER (an SSM SecureString) is an alternative to Secrets Manager the template does not use',
  };
  /** Granted without a call in the code. */
  const WITHOUT_A_CALL: Record<string, string> = {
    'sqs:GetQueueAttributes':
      "Lambda's SQS event source mapping reads the queue's attributes with the function's role",
    'kms:GenerateDataKey':
      "S3 asks KMS for a data key when a quarantine object is written under the bucket's SSE-KMS default",
    'logs:CreateLogStream': 'the Lambda runtime writes the logs (and EMF metrics)',
    'logs:PutLogEvents': 'the Lambda runtime writes the logs (and EMF metrics)',
  };

  it('finds the calls it checks', () => {
    expect(needed).toEqual(
      expect.arrayContaining([
        's3:GetObject',
        'sqs:DeleteMessage',
        'secretsmanager:GetSecretValue',
      ]),
    );
  });

  it('grants every call the code makes', () => {
    const role = granted('historical-feed.yaml', 'FunctionRole');
    expect(needed.filter((a) => !role.includes(a) && NOT_DEPLOYED[a] === undefined)).toEqual([]);
  });

  it('grants nothing the code does not call, except the listed ones', () => {
    const role = granted('historical-feed.yaml', 'FunctionRole').filter(
      (a) => !a.startsWith('ec2:'),
    );
    expect(role.filter((a) => !needed.includes(a) && WITHOUT_A_CALL[a] === undefined)).toEqual([]);
    for (const a of Object.keys(WITHOUT_A_CALL)) expect(role).toContain(a);
  });
});

describe('rta-feed.yaml: the reader and the daemon follow the reader and store code', () => {
  const reader = actionsFor(commandsIn(['packages/kinesis-shard-reader/src'])).filter((a) =>
    a.startsWith('kinesis:'),
  );
  const store = actionsFor(commandsIn(['packages/checkpoint-store/src']));

  it("the reader policy is exactly the shard reader's Kinesis calls (+ kms:Decrypt for the key)", () => {
    expect(reader.length).toBeGreaterThanOrEqual(4);
    expect(granted('rta-feed.yaml', 'StreamReadPolicy')).toEqual([...reader, 'kms:Decrypt'].sort());
    expect(granted('rta-feed.yaml', 'TaskRole', ['ReadAgentEventStream'])).toEqual(reader);
  });

  it("the task role's table actions are exactly the DynamoDB store's calls, without CreateTable", () => {
    // The table belongs to the stack; the store creates one only when it is missing.
    expect(store).toContain('dynamodb:CreateTable');
    expect(granted('rta-feed.yaml', 'TaskRole', ['CheckpointsAndLease'])).toEqual(
      store.filter((a) => a !== 'dynamodb:CreateTable'),
    );
  });
});
