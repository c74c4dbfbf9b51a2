// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${...} placeholders, not template literals
import {
  type CfnTemplate,
  externalManagedPolicies,
  type FoundStatement,
  policyStatements,
  resourcesOfType,
} from '../../src/index.js';
import { TEMPLATE_FILES, type TemplateFile, template } from '../support.js';

/**
 * The only statements that may use Resource "*": AWS offers no resource-level permission for
 * these actions. Each is listed with the reason; the test also fails when one is no longer used,
 * so the list stays exact.
 */
const WILDCARD_RESOURCE_EXCEPTIONS: readonly {
  readonly template: TemplateFile;
  readonly resourceId: string;
  readonly sid: string;
  readonly actions: readonly string[];
  readonly reason: string;
}[] = [
  {
    template: 'historical-feed.yaml',
    resourceId: 'FunctionRole',
    sid: 'VpcNetworkInterfaces',
    actions: [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ],
    reason:
      'only with the optional VPC: the ENI actions Lambda performs for a function in a VPC (the set AWS grants in AWSLambdaVPCAccessExecutionRole); ec2:Describe* has no resource-level permission',
  },
  {
    template: 'rta-feed.yaml',
    resourceId: 'TaskExecutionRole',
    sid: 'EcrLogin',
    actions: ['ecr:GetAuthorizationToken'],
    reason: 'only with a private ECR image: GetAuthorizationToken has no resource-level permission',
  },
];

/**
 * Deny statements may name a service wildcard: they only take access away. Listed so that a new
 * one is a deliberate change.
 */
const WILDCARD_DENIES: readonly {
  readonly template: TemplateFile;
  readonly resourceId: string;
  readonly sid: string;
  readonly reason: string;
}[] = [
  {
    template: 'historical-feed.yaml',
    resourceId: 'BucketPolicy',
    sid: 'DenyInsecureTransport',
    reason: 'refuses every S3 request to the feed bucket that is not over TLS',
  },
];

/** Which rendered resources each service's actions may be granted on, per template. */
const SCOPES: Record<
  TemplateFile,
  Record<string, (resource: string, action: string) => boolean>
> = {
  'historical-feed.yaml': {
    s3: (r, action) => {
      const bucket = String.raw`arn:\$\{AWS::Partition\}:s3:::\$\{(Bucket|ExistingBucketName)\}`;
      if (
        ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'].includes(action)
      ) {
        return new RegExp(`^${bucket}$`).test(r);
      }
      // object actions: only under one of the feed's prefixes, never the whole bucket
      const prefix = String.raw`(\$\{(CtrPrefix|ReportPrefix|QuarantinePrefix)\}|firehose-errors/)`;
      return new RegExp(`^${bucket}/${prefix}\\*$`).test(r);
    },
    sqs: (r) => r === '${Queue.Arn}',
    secretsmanager: (r) => ['${SftpSecret}', '${ExistingSftpSecretArn}'].includes(r),
    ssm: (r) =>
      r ===
      'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SftpSecretParameterName}',
    kms: (r) => ['${KmsKeyArn}', '${SftpSecretParameterKmsKeyArn}'].includes(r),
    logs: (r) =>
      ['${DeliveryLogGroup.Arn}', '${DrainLogGroup.Arn}', '${FirehoseLogGroup.Arn}'].includes(r),
  },
  'rta-feed.yaml': {
    kinesis: (r) => ['${AgentEventStream.Arn}', '${ExistingStreamArn}'].includes(r),
    kms: (r) => ['${StreamKmsKeyArn}', '${RtaAuthKeySecretKmsKeyArn}'].includes(r),
    dynamodb: (r) => r === '${CheckpointTable.Arn}',
    secretsmanager: (r) => r === '${RtaAuthKeySecretArn}',
    logs: (r) => r === '${ServiceLogGroup.Arn}',
    ecr: (r) => r === '${ImageRepositoryArn}',
    sts: (r) => r === '${ServiceReaderRoleArn}',
  },
};

const where = (s: FoundStatement) =>
  `${s.resourceId}${s.policyName ? `/${s.policyName}` : ''}/${s.sid}`;

function grants(t: CfnTemplate): FoundStatement[] {
  return policyStatements(t).filter((s) => s.kind === 'identity' && s.effect === 'Allow');
}

describe.each(TEMPLATE_FILES)('%s: least privilege', (file) => {
  const t = template(file);
  const statements = policyStatements(t);

  it('has IAM statements to check', () => {
    expect(grants(t).length).toBeGreaterThan(3);
  });

  it('allows no wildcard action (no "s3:*", no "kms:*", no "Get*")', () => {
    const bad = statements
      .filter((s) => s.effect === 'Allow')
      .flatMap((s) =>
        s.actions
          .filter((a) => a.includes('*') || !/^[a-z0-9-]+:[A-Za-z]+$/.test(a))
          .map((a) => `${where(s)}: ${a}`),
      );
    expect(bad).toEqual([]);
  });

  it('uses a wildcard action only in the listed Deny statements', () => {
    const found = statements
      .filter((s) => s.effect === 'Deny' && s.actions.some((a) => a.includes('*')))
      .map((s) => `${s.resourceId}/${s.sid}`)
      .sort();
    const listed = WILDCARD_DENIES.filter((d) => d.template === file)
      .map((d) => `${d.resourceId}/${d.sid}`)
      .sort();
    expect(found).toEqual(listed);
  });

  it('never uses NotAction or NotResource', () => {
    expect(statements.filter((s) => s.negated).map(where)).toEqual([]);
  });

  it('names a resource in every grant; "*" only where AWS has no resource-level permission', () => {
    const unscoped = grants(t)
      .filter((s) => s.resources.length === 0)
      .map(where);
    expect(unscoped).toEqual([]);
    const wildcards = grants(t)
      .filter((s) => s.resources.some((r) => r.includes('*') && !r.startsWith('arn:')))
      .map((s) => ({
        resourceId: s.resourceId,
        sid: s.sid,
        actions: [...s.actions].sort(),
        resources: s.resources,
      }));
    const listed = WILDCARD_RESOURCE_EXCEPTIONS.filter((e) => e.template === file).map((e) => ({
      resourceId: e.resourceId,
      sid: e.sid,
      actions: [...e.actions].sort(),
      resources: ['*'],
    }));
    expect(wildcards).toEqual(listed);
    for (const e of WILDCARD_RESOURCE_EXCEPTIONS) expect(e.reason.length).toBeGreaterThan(20);
  });

  it("grants each service's actions only on this stack's own resource of that service", () => {
    const scopes = SCOPES[file];
    const problems: string[] = [];
    for (const s of grants(t)) {
      if (s.resources.length === 1 && s.resources[0] === '*') continue; // the listed exceptions
      for (const action of s.actions) {
        const service = action.split(':')[0] as string;
        const allowed = scopes[service];
        if (allowed === undefined) {
          problems.push(`${where(s)}: no scope rule for ${action}`);
          continue;
        }
        for (const r of s.resources) {
          if (!allowed(r, action)) problems.push(`${where(s)}: ${action} on ${r}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('attaches no managed policy that is not defined (and so checked) here', () => {
    expect(externalManagedPolicies(t)).toEqual([]);
  });

  it('lets each AWS service assume a role only for this account', () => {
    const services = statements.filter(
      (s) => s.kind === 'trust' && JSON.stringify(s.statement.Principal).includes('Service'),
    );
    expect(services.length).toBeGreaterThan(0);
    for (const s of services) {
      // Firehose passes the account as the external ID; the other services set aws:SourceAccount
      const key = JSON.stringify(s.statement.Principal).includes('firehose.amazonaws.com')
        ? 'sts:ExternalId'
        : 'aws:SourceAccount';
      expect([where(s), s.statement.Condition]).toEqual([
        where(s),
        { StringEquals: { [key]: { Ref: 'AWS::AccountId' } } },
      ]);
    }
  });

  it('limits every resource-policy grant to a named source', () => {
    for (const s of statements.filter((x) => x.kind === 'resource' && x.effect === 'Allow')) {
      const condition = JSON.stringify(s.statement.Condition ?? {});
      expect([where(s), condition]).toEqual([where(s), expect.stringContaining('aws:SourceArn')]);
    }
  });

  it('gives roles no permission to manage IAM, KMS keys or other roles', () => {
    const risky = grants(t)
      .flatMap((s) => s.actions.map((a) => [where(s), a] as const))
      .filter(([, a]) =>
        /^iam:|^kms:(Create|Put|Schedule|Enable|Disable|Update)|^organizations:/.test(a),
      );
    expect(risky).toEqual([]);
  });
});

describe('historical-feed.yaml: the function role', () => {
  const t = template('historical-feed.yaml');
  const role = grants(t).filter((s) => s.resourceId === 'FunctionRole');
  const actionsOn = (sid: string) => role.find((s) => s.sid === sid)?.actions ?? [];

  it('reads and tags objects only under the CTR and report prefixes', () => {
    const read = role.find((s) => s.sid === 'ReadAndMarkFeedObjects');
    expect([...(read?.actions ?? [])].sort()).toEqual([
      's3:GetObject',
      's3:GetObjectTagging',
      's3:PutObjectTagging',
    ]);
    expect(read?.resources.map((r) => r.replace(/^.*\}\//, ''))).toEqual([
      '${CtrPrefix}*',
      '${CtrPrefix}*',
      '${ReportPrefix}*',
      '${ReportPrefix}*',
    ]);
  });

  it('writes objects only under the quarantine prefix', () => {
    const writers = role.filter((s) => s.actions.includes('s3:PutObject'));
    expect(writers.map((s) => s.sid)).toEqual(['WriteQuarantine']);
    expect(writers[0]?.resources.every((r) => r.endsWith('/${QuarantinePrefix}*'))).toBe(true);
  });

  it('consumes the queue and reads the secret, nothing more', () => {
    expect([...actionsOn('ConsumeQueue')].sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
    ]);
    expect(actionsOn('ReadSftpSecret')).toEqual(['secretsmanager:GetSecretValue']);
    expect([...actionsOn('UseFeedKey')].sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('grants the key only when a key is given', () => {
    const raw = JSON.stringify(t.Resources.FunctionRole?.Properties?.Policies);
    expect(raw).toContain('{"Fn::If":["UseKms",{"Sid":"UseFeedKey"');
    expect(raw).toContain('{"Fn::If":["UseVpc",{"Sid":"VpcNetworkInterfaces"');
  });
});

describe('rta-feed.yaml: the reader', () => {
  const t = template('rta-feed.yaml');
  const READ = [
    'kinesis:DescribeStream',
    'kinesis:DescribeStreamSummary',
    'kinesis:GetRecords',
    'kinesis:GetShardIterator',
    'kinesis:ListShards',
  ];

  it('may only read the stream and decrypt with its key', () => {
    const policy = grants(t).filter((s) => s.resourceId === 'StreamReadPolicy');
    expect(policy.flatMap((s) => s.actions).sort()).toEqual([...READ, 'kms:Decrypt'].sort());
    expect(policy.find((s) => s.sid === 'DecryptAgentEvents')?.resources).toEqual([
      '${StreamKmsKeyArn}',
    ]);
    expect(policy.find((s) => s.sid === 'ReadAgentEventStream')?.resources).toEqual([
      '${AgentEventStream.Arn}',
      '${ExistingStreamArn}',
    ]);
  });

  it('is assumable only from the reader account with the external ID', () => {
    const trust = policyStatements(t).filter(
      (s) => s.resourceId === 'ReaderRole' && s.kind === 'trust',
    );
    expect(trust).toHaveLength(1);
    expect(trust[0]?.statement).toEqual({
      Effect: 'Allow',
      Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ReaderAccountId}:root' } },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'ReaderExternalId' } } },
    });
  });

  it('role and optional user carry that policy and nothing else', () => {
    for (const id of ['ReaderRole', 'ReaderUser']) {
      const props = t.Resources[id]?.Properties ?? {};
      expect([id, props.ManagedPolicyArns, props.Policies]).toEqual([
        id,
        [{ Ref: 'StreamReadPolicy' }],
        undefined,
      ]);
    }
    expect(resourcesOfType(t, 'AWS::IAM::AccessKey')).toEqual([]);
  });

  it('the daemon task reads the same stream with the same actions', () => {
    const task = grants(t).filter((s) => s.resourceId === 'TaskRole');
    expect([...(task.find((s) => s.sid === 'ReadAgentEventStream')?.actions ?? [])].sort()).toEqual(
      READ,
    );
  });
});
