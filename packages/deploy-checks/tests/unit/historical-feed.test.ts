// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${...} placeholders, not template literals
import {
  type CfnValue,
  expandList,
  policyStatements,
  render,
  resourcesOfType,
  TemplateEvaluator,
} from '../../src/index.js';
import { prop, template } from '../support.js';

const t = template('historical-feed.yaml');
const conditionOf = (id: string) => t.Resources[id]?.Condition;

describe('historical-feed.yaml: bucket and notifications', () => {
  it('creates the bucket unless an existing one is named', () => {
    expect(t.Conditions?.CreateBucket).toEqual({
      'Fn::Equals': [{ Ref: 'ExistingBucketName' }, ''],
    });
    expect(conditionOf('Bucket')).toBe('CreateBucket');
    expect(t.Resources.Bucket?.DeletionPolicy).toBe('Retain');
    expect(prop(t, 'Bucket', 'PublicAccessBlockConfiguration')).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it('notifies the queue of new objects under the CTR and report prefixes only', () => {
    const config = prop(t, 'Bucket', 'NotificationConfiguration') as {
      QueueConfigurations: CfnValue[];
    };
    expect(config.QueueConfigurations).toEqual(
      ['CtrPrefix', 'ReportPrefix'].map((p) => ({
        Event: 's3:ObjectCreated:*',
        Queue: { 'Fn::GetAtt': ['Queue', 'Arn'] },
        Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: { Ref: p } }] } },
      })),
    );
    // S3 checks the destination's policy when the notification is set
    expect(t.Resources.Bucket?.DependsOn).toBe('QueuePolicy');
  });

  it('lets only the feed bucket (and, for an existing bucket, its EventBridge rule) send to the queue', () => {
    const sends = policyStatements(t).filter((s) => s.resourceId === 'QueuePolicy');
    expect(sends.map((s) => [s.sid, s.actions, s.resources])).toEqual([
      ['OnlyTheFeedBucket', ['sqs:SendMessage'], ['${Queue.Arn}']],
      ['OnlyTheExistingBucketRule', ['sqs:SendMessage'], ['${Queue.Arn}']],
    ]);
    const [bucket, rule] = sends;
    if (bucket === undefined) throw new Error('no bucket statement');
    expect(bucket.statement.Principal).toEqual({ Service: 's3.amazonaws.com' });
    const sourceArn = (bucket.statement.Condition as { ArnEquals: { 'aws:SourceArn': CfnValue } })
      .ArnEquals['aws:SourceArn'];
    // the same name as the bucket's BucketName (built the same way, since the bucket depends on this policy)
    const bucketNames = render(prop(t, 'Bucket', 'BucketName'));
    expect(render(sourceArn)).toEqual([
      ...bucketNames.map((n) => `arn:\${AWS::Partition}:s3:::${n}`),
      'arn:${AWS::Partition}:s3:::${ExistingBucketName}',
    ]);
    expect(rule?.statement.Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(rule?.statement.Condition).toEqual({
      ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['ExistingBucketRule', 'Arn'] } },
    });
    expect(conditionOf('ExistingBucketRule')).toBe('UseExistingBucket');
  });

  it('routes an existing bucket\'s "Object Created" events for the two prefixes to the queue', () => {
    const pattern = prop(t, 'ExistingBucketRule', 'EventPattern') as Record<string, CfnValue>;
    expect(pattern['detail-type']).toEqual(['Object Created']);
    expect(JSON.stringify(pattern.detail)).toBe(
      JSON.stringify({
        bucket: { name: [{ Ref: 'ExistingBucketName' }] },
        object: { key: [{ prefix: { Ref: 'CtrPrefix' } }, { prefix: { Ref: 'ReportPrefix' } }] },
      }),
    );
  });
});

describe('historical-feed.yaml: queue, DLQ, functions', () => {
  it('moves a message to the DLQ after MaxReceiveCount receives', () => {
    expect(prop(t, 'Queue', 'RedrivePolicy')).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] },
      maxReceiveCount: { Ref: 'MaxReceiveCount' },
    });
    expect(t.Parameters?.MaxReceiveCount?.Default).toBe(5);
    expect(prop(t, 'DeadLetterQueue', 'MessageRetentionPeriod')).toBe(1209600);
  });

  it('keeps a visibility timeout of at least six function timeouts by default', () => {
    expect(prop(t, 'Queue', 'VisibilityTimeout')).toEqual({ Ref: 'QueueVisibilityTimeoutSeconds' });
    const visibility = Number(t.Parameters?.QueueVisibilityTimeoutSeconds?.Default);
    const timeout = Number(t.Parameters?.FunctionTimeoutSeconds?.Default);
    expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('runs index.handler and index.drain on a current Node.js runtime', () => {
    const fns = resourcesOfType(t, 'AWS::Lambda::Function');
    expect(fns.map(([id, f]) => [id, f.Properties?.Handler])).toEqual([
      ['DeliveryFunction', 'index.handler'],
      ['DrainFunction', 'index.drain'],
    ]);
    const runtimes = t.Parameters?.Runtime;
    expect(runtimes?.Default).toBe('nodejs22.x');
    for (const r of runtimes?.AllowedValues ?? [])
      expect(Number(/^nodejs(\d+)\.x$/.exec(String(r))?.[1])).toBeGreaterThanOrEqual(22);
    expect(t.Parameters?.Architecture?.AllowedValues).toEqual(['arm64', 'x86_64']);
    for (const [, f] of fns) {
      expect(f.Properties?.Runtime).toEqual({ Ref: 'Runtime' });
      expect(f.Properties?.Architectures).toEqual([{ Ref: 'Architecture' }]);
    }
  });

  it('maps the queue to index.handler with partial batch failures', () => {
    expect(conditionOf('DeliveryMapping')).toBe('UseSqsMapping');
    expect(prop(t, 'DeliveryMapping', 'FunctionName')).toEqual({ Ref: 'DeliveryFunction' });
    expect(prop(t, 'DeliveryMapping', 'EventSourceArn')).toEqual({
      'Fn::GetAtt': ['Queue', 'Arn'],
    });
    expect(prop(t, 'DeliveryMapping', 'FunctionResponseTypes')).toEqual([
      'ReportBatchItemFailures',
    ]);
  });

  it('calls index.drain every 30 minutes when the schedule is on', () => {
    expect(conditionOf('DrainSchedule')).toBe('UseSchedule');
    expect(prop(t, 'DrainSchedule', 'ScheduleExpression')).toBe('rate(30 minutes)');
    expect(prop(t, 'DrainSchedule', 'Targets')).toEqual([
      { Id: 'drain', Arn: { 'Fn::GetAtt': ['DrainFunction', 'Arn'] } },
    ]);
    expect(prop(t, 'DrainSchedulePermission', 'SourceArn')).toEqual({
      'Fn::GetAtt': ['DrainSchedule', 'Arn'],
    });
    expect(t.Parameters?.TriggerMode?.AllowedValues).toEqual(['sqs', 'schedule', 'both']);
  });

  it('gives both functions the same environment, with the queue URL for the drain', () => {
    const env = (id: string) =>
      (prop(t, id, 'Environment') as { Variables: Record<string, CfnValue> }).Variables;
    expect(env('DrainFunction')).toEqual(env('DeliveryFunction'));
    expect(env('DrainFunction').QUEUE_URL).toEqual({ Ref: 'Queue' });
  });

  it('logs to its own log groups with a retention', () => {
    for (const [id, group] of resourcesOfType(t, 'AWS::Logs::LogGroup')) {
      expect([id, group.Properties?.RetentionInDays]).toEqual([id, { Ref: 'LogRetentionDays' }]);
    }
    expect(
      (prop(t, 'DeliveryFunction', 'LoggingConfig') as Record<string, CfnValue>).LogGroup,
    ).toEqual({
      Ref: 'DeliveryLogGroup',
    });
    expect(
      (prop(t, 'DrainFunction', 'LoggingConfig') as Record<string, CfnValue>).LogGroup,
    ).toEqual({
      Ref: 'DrainLogGroup',
    });
  });

  it('puts the functions in a VPC only when subnets are given', () => {
    for (const id of ['DeliveryFunction', 'DrainFunction']) {
      expect(prop(t, id, 'VpcConfig')).toEqual({
        'Fn::If': [
          'UseVpc',
          { SubnetIds: { Ref: 'SubnetIds' }, SecurityGroupIds: { Ref: 'SecurityGroupIds' } },
          { Ref: 'AWS::NoValue' },
        ],
      });
    }
  });

  it('uses the KMS key only when one is given', () => {
    expect(t.Conditions?.UseKms).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'KmsKeyArn' }, ''] }],
    });
    expect(prop(t, 'SftpSecret', 'KmsKeyId')).toEqual({
      'Fn::If': ['UseKms', { Ref: 'KmsKeyArn' }, { Ref: 'AWS::NoValue' }],
    });
    expect(t.Parameters?.KmsKeyArn?.Default).toBe('');
  });

  it('keeps the SFTP secret in Secrets Manager, created empty or given by ARN', () => {
    expect(conditionOf('SftpSecret')).toBe('CreateSecret');
    expect(t.Resources.SftpSecret?.Type).toBe('AWS::SecretsManager::Secret');
    expect(t.Parameters?.SftpHostKey?.AllowedPattern).toBe('^SHA256:[A-Za-z0-9+/]{43}=?$');
  });
});

describe('historical-feed.yaml: alarms', () => {
  const alarms = resourcesOfType(t, 'AWS::CloudWatch::Alarm').map(([id, a]) => ({
    id,
    metric: `${String(a.Properties?.Namespace)}/${String(a.Properties?.MetricName)}`,
    on: render((expandList(a.Properties?.Dimensions)[0] as { Value: CfnValue }).Value)[0],
  }));

  it('alarms on messages in the DLQ and on the age of the oldest message', () => {
    expect(alarms).toContainEqual({
      id: 'DeadLetterQueueAlarm',
      metric: 'AWS/SQS/ApproximateNumberOfMessagesVisible',
      on: '${DeadLetterQueue.QueueName}',
    });
    expect(alarms).toContainEqual({
      id: 'OldestMessageAlarm',
      metric: 'AWS/SQS/ApproximateAgeOfOldestMessage',
      on: '${Queue.QueueName}',
    });
  });

  it("alarms on objects that failed (the function's own metric, as partial failures are no Lambda errors)", () => {
    const e = new TemplateEvaluator(t, {
      parameters: { CodeBucket: 'c', SftpHost: 'h', SftpUsername: 'u', SftpHostKey: 'k' },
    });
    const alarm = e.value(t.Resources.ObjectsFailedAlarm?.Properties) as Record<string, unknown>;
    const env = (
      e.value(t.Resources.DeliveryFunction?.Properties?.Environment) as {
        Variables: Record<string, string>;
      }
    ).Variables;
    expect(alarm).toMatchObject({
      Namespace: env.POWERTOOLS_METRICS_NAMESPACE,
      MetricName: 'objectsFailed',
      Dimensions: [{ Name: 'service', Value: env.POWERTOOLS_SERVICE_NAME }],
    });
  });

  it('alarms on errors of both functions', () => {
    expect(alarms.filter((a) => a.metric === 'AWS/Lambda/Errors').map((a) => a.on)).toEqual([
      '${DeliveryFunction}',
      '${DrainFunction}',
    ]);
  });
});

describe('historical-feed.yaml: where the SFTP credentials are read', () => {
  const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const REQUIRED = {
    CodeBucket: 'code',
    SftpHost: 'sftp.example.com',
    SftpUsername: 'u',
    SftpHostKey: `SHA256:${'A'.repeat(43)}`,
  };
  /** The function role's statements (Sid -> statement) for one parameter set. */
  const roleFor = (parameters: Record<string, string>) => {
    const e = new TemplateEvaluator(t, { parameters: { ...REQUIRED, ...parameters } });
    const [policy] = e.value(t.Resources.FunctionRole?.Properties?.Policies) as Array<{
      PolicyDocument: { Statement: Array<Record<string, unknown>> };
    }>;
    return {
      e,
      sids: new Map((policy?.PolicyDocument.Statement ?? []).map((s) => [String(s.Sid), s])),
    };
  };

  it('grants secretsmanager:GetSecretValue on the one secret and nothing of SSM by default', () => {
    const { e, sids } = roleFor({});
    expect(sids.get('ReadSftpSecret')?.Action).toEqual(['secretsmanager:GetSecretValue']);
    expect(sids.has('ReadSftpParameter')).toBe(false);
    expect(sids.has('DecryptSftpParameter')).toBe(false);
    expect(e.exists('SftpSecret')).toBe(true);
  });

  it('with ssm, grants ssm:GetParameter on that parameter only, and creates no secret', () => {
    const { e, sids } = roleFor({
      SftpSecretSource: 'ssm',
      SftpSecretParameterName: '/connect-wfm/sftp',
    });
    expect(sids.has('ReadSftpSecret')).toBe(false);
    expect(e.exists('SftpSecret')).toBe(false);
    expect(e.condition('UseSsmSecretKey')).toBe(false);
    const read = sids.get('ReadSftpParameter');
    expect(read?.Action).toEqual(['ssm:GetParameter']);
    expect(String(read?.Resource)).toMatch(/:ssm:[^:]+:[^:]+:parameter\/connect-wfm\/sftp$/);
    // The AWS managed key aws/ssm needs no grant: no kms:Decrypt for the parameter.
    expect(sids.has('DecryptSftpParameter')).toBe(false);
  });

  it('with ssm and a customer managed key, allows kms:Decrypt on that key through SSM only', () => {
    const { sids } = roleFor({
      SftpSecretSource: 'ssm',
      SftpSecretParameterName: '/connect-wfm/sftp',
      SftpSecretParameterKmsKeyArn: KEY,
    });
    const decrypt = sids.get('DecryptSftpParameter');
    if (decrypt === undefined) throw new Error('no DecryptSftpParameter statement');
    expect(decrypt.Action).toEqual(['kms:Decrypt']);
    expect(decrypt.Resource).toBe(KEY);
    const equals = (decrypt.Condition as { StringEquals: Record<string, string> }).StringEquals;
    expect(String(equals['kms:ViaService'])).toMatch(/^ssm\./);
    expect(String(equals['kms:EncryptionContext:PARAMETER_ARN'])).toBe(
      String(sids.get('ReadSftpParameter')?.Resource),
    );
    expect(sids.has('UseFeedKey')).toBe(false);
  });

  it('refuses an ssm source without a parameter name, and a parameter with secretsmanager', () => {
    const rules = JSON.stringify(t.Rules);
    expect(rules).toContain('SftpSecretParameterName is required when SftpSecretSource is ssm');
    expect(rules).toContain('leave them empty with secretsmanager');
    expect(t.Parameters?.SftpSecretSource?.AllowedValues).toEqual(['secretsmanager', 'ssm']);
    expect(t.Parameters?.SftpSecretSource?.Default).toBe('secretsmanager');
  });
});
