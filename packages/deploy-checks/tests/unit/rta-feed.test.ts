// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${...} placeholders, not template literals
import {
  type CfnValue,
  expandList,
  policyStatements,
  render,
  resourcesOfType,
  TemplateEvaluator,
} from '../../src/index.js';
import { DAEMON_DRAIN_BOUND_S, DAEMON_ENV, prop, template } from '../support.js';

const t = template('rta-feed.yaml');
const conditionOf = (id: string) => t.Resources[id]?.Condition;

const container = () =>
  expandList(prop(t, 'TaskDefinition', 'ContainerDefinitions'))[0] as Record<string, CfnValue>;
const environment = () =>
  new Map(
    expandList(container().Environment).map((e) => {
      const { Name, Value } = e as { Name: string; Value: CfnValue };
      return [Name, render(Value)] as const;
    }),
  );

describe('rta-feed.yaml: the agent event stream', () => {
  it('is created unless an existing stream ARN is given', () => {
    expect(conditionOf('AgentEventStream')).toBe('CreateStream');
    expect(t.Conditions?.CreateStream).toEqual({
      'Fn::Equals': [{ Ref: 'ExistingStreamArn' }, ''],
    });
    expect(t.Resources.AgentEventStream?.DeletionPolicy).toBe('Retain');
  });

  it('is KMS-encrypted only when a key is given', () => {
    expect(prop(t, 'AgentEventStream', 'StreamEncryption')).toEqual({
      'Fn::If': [
        'EncryptStream',
        { EncryptionType: 'KMS', KeyId: { Ref: 'StreamKmsKeyArn' } },
        { Ref: 'AWS::NoValue' },
      ],
    });
  });

  it('keeps records at least as long as the cold start reads back (24 h)', () => {
    expect(t.Parameters?.StreamRetentionHours?.Default).toBe(24);
    expect(prop(t, 'AgentEventStream', 'RetentionPeriodHours')).toEqual({
      Ref: 'StreamRetentionHours',
    });
  });
});

describe('rta-feed.yaml: reader access', () => {
  it('offers the role (external ID required by a rule) and, optionally, the IAM user', () => {
    expect(conditionOf('ReaderRole')).toBe('MakeReaderRole');
    expect(conditionOf('ReaderUser')).toBe('MakeReaderUser');
    expect(t.Parameters?.CreateReaderUser?.Default).toBe('false');
    const rule = JSON.stringify(t.Rules?.ReaderRoleNeedsAccountAndExternalId);
    expect(rule).toContain('"Ref":"ReaderExternalId"');
    expect(rule).toContain('"Ref":"ReaderAccountId"');
  });

  it('outputs the role ARN and the user name, never a key', () => {
    expect(render(t.Outputs?.ReaderRoleArn?.Value)).toEqual(['${ReaderRole.Arn}']);
    expect(render(t.Outputs?.ReaderUserName?.Value)).toEqual(['${ReaderUser}']);
  });
});

describe('rta-feed.yaml: the checkpoint table', () => {
  it("has the DynamoDB store's key schema: pk (S, hash) and sk (S, range)", () => {
    expect(prop(t, 'CheckpointTable', 'KeySchema')).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(prop(t, 'CheckpointTable', 'AttributeDefinitions')).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ]);
  });

  it('is kept when the stack goes, with point-in-time recovery', () => {
    expect(t.Resources.CheckpointTable?.DeletionPolicy).toBe('Retain');
    expect(prop(t, 'CheckpointTable', 'PointInTimeRecoverySpecification')).toEqual({
      PointInTimeRecoveryEnabled: true,
    });
    expect(prop(t, 'CheckpointTable', 'BillingMode')).toBe('PAY_PER_REQUEST');
  });
});

describe('rta-feed.yaml: the optional Fargate service', () => {
  it('exists only when asked for, with its settings required by a rule', () => {
    for (const id of [
      'Cluster',
      'TaskDefinition',
      'Service',
      'TaskRole',
      'TaskExecutionRole',
      'ServiceLogGroup',
    ]) {
      expect([id, conditionOf(id)]).toEqual([id, 'MakeService']);
    }
    const rule = JSON.stringify(t.Rules?.ServiceNeedsItsSettings);
    for (const p of [
      'ImageUri',
      'RtaAuthKeySecretArn',
      'WfmUrl',
      'SourceId',
      'VpcId',
      'SubnetIds',
    ]) {
      expect(rule).toContain(`"Ref":"${p}"`);
    }
  });

  it('runs two tasks by default: one leader, one standby', () => {
    expect(t.Parameters?.DesiredCount?.Default).toBe(2);
    expect(prop(t, 'Service', 'DesiredCount')).toEqual({ Ref: 'DesiredCount' });
    expect(prop(t, 'Service', 'LaunchType')).toBe('FARGATE');
    // a deployment starts the new tasks (as standbys) before it stops the old ones
    expect(prop(t, 'Service', 'DeploymentConfiguration')).toMatchObject({
      MaximumPercent: 200,
      MinimumHealthyPercent: 100,
    });
  });

  it('gives the container only settings the daemon knows, listening on all interfaces', () => {
    const env = environment();
    for (const name of env.keys()) expect([name, DAEMON_ENV.has(name)]).toEqual([name, true]);
    expect(env.get('RTA_HTTP_HOST')).toEqual(['0.0.0.0']);
    expect(env.get('RTA_STORE')).toEqual(['dynamodb:${CheckpointTable}']);
    expect(env.get('RTA_STREAM')).toEqual(['${AgentEventStream.Arn}', '${ExistingStreamArn}']);
    expect(env.get('RTA_LOG_FORMAT')).toEqual(['json']);
  });

  it('stops the container only after the daemon had time to drain', () => {
    expect(Number(container().StopTimeout)).toBeGreaterThan(DAEMON_DRAIN_BOUND_S);
  });

  it('checks /healthz on the operator port', () => {
    const check = JSON.stringify((container().HealthCheck as { Command: CfnValue }).Command);
    expect(check).toContain('http://127.0.0.1:9464/healthz');
    expect(container().PortMappings).toEqual([{ ContainerPort: 9464, Protocol: 'tcp' }]);
  });

  it("task role: the table's item actions the store uses, the stream read actions (or the reader role), nothing else", () => {
    const task = policyStatements(t).filter(
      (s) => s.resourceId === 'TaskRole' && s.kind === 'identity',
    );
    expect(task.map((s) => s.sid)).toEqual([
      'CheckpointsAndLease',
      'ReadAgentEventStream',
      'DecryptAgentEvents',
      'AssumeReaderRole',
    ]);
    expect(task[0]?.resources).toEqual(['${CheckpointTable.Arn}']);
    expect(task[3]?.actions).toEqual(['sts:AssumeRole']);
    expect(
      task
        .flatMap((s) => s.actions)
        .some((a) => /CreateTable|DeleteTable|Scan|UpdateTable/.test(a)),
    ).toBe(false);
  });

  it('sets the reader role and external ID only when the stream is in another account', () => {
    const env = JSON.stringify(container().Environment);
    expect(env).toContain('{"Fn::If":["ServiceAssumesReader",{"Name":"RTA_ROLE_ARN"');
    expect(env).toContain('{"Fn::If":["ServiceAssumesReader",{"Name":"RTA_EXTERNAL_ID"');
  });

  it('opens no inbound port', () => {
    const groups = resourcesOfType(t, 'AWS::EC2::SecurityGroup');
    expect(groups.map(([, g]) => g.Properties?.SecurityGroupIngress)).toEqual([undefined]);
    expect(resourcesOfType(t, 'AWS::EC2::SecurityGroupIngress')).toEqual([]);
  });
});

describe('rta-feed.yaml: the reader-lag alarm', () => {
  it.each([
    [{}, 'AgentEventStream-physical-id'],
    [
      { ExistingStreamArn: 'arn:aws:kinesis:eu-west-1:111122223333:stream/connect-events' },
      'connect-events',
    ],
  ])('watches the iterator age of the stream (%j)', (parameters, streamName) => {
    const e = new TemplateEvaluator(t, {
      parameters: { ReaderAccountId: '444455556666', ReaderExternalId: 'x', ...parameters },
    });
    expect(e.value(t.Resources.ReaderLagAlarm?.Properties)).toMatchObject({
      Namespace: 'AWS/Kinesis',
      MetricName: 'GetRecords.IteratorAgeMilliseconds',
      Dimensions: [{ Name: 'StreamName', Value: streamName }],
      Threshold: '60000',
    });
  });
});
