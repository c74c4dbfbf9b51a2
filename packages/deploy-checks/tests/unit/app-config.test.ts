// The environments the templates give the two apps, evaluated for several parameter sets, must
// pass the apps' own configuration validation (the same code that runs at cold start / start).
import { loadConfig as loadLambdaConfig } from '../../../../apps/historical-lambda/src/config.js';
import {
  loadConfig as loadDaemonConfig,
  SETTINGS,
} from '../../../../apps/rta-service/src/config.js';
import { type Evaluated, expandList, TemplateEvaluator } from '../../src/index.js';
import { DAEMON_DRAIN_BOUND_S, DAEMON_ENV, template } from '../support.js';

const HOST_KEY = `SHA256:${'A'.repeat(43)}`;
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const HISTORICAL_REQUIRED = {
  CodeBucket: 'code-bucket',
  SftpHost: 'sftp.wfm.example.com',
  SftpUsername: 'customer42',
  SftpHostKey: HOST_KEY,
};

const HISTORICAL_SCENARIOS: Record<string, Record<string, string>> = {
  defaults: HISTORICAL_REQUIRED,
  'existing bucket, existing secret, KMS, VPC, schedule, mapped reports': {
    ...HISTORICAL_REQUIRED,
    ExistingBucketName: 'existing-feed-bucket',
    ExistingSftpSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:sftp-AbCdEf',
    KmsKeyArn: KEY_ARN,
    SubnetIds: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
    SecurityGroupIds: 'sg-0123456789abcdef0',
    TriggerMode: 'both',
    ReportMode: 'mapped',
    StatsOutputs: 'both',
    StatsIntervalMinutes: '30',
  },
  'SSM SecureString with its own key': {
    ...HISTORICAL_REQUIRED,
    SftpSecretSource: 'ssm',
    SftpSecretParameterName: '/connect-wfm/sftp',
    SftpSecretParameterKmsKeyArn: KEY_ARN,
  },
};

function asEnv(value: Evaluated): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('not a map');
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

describe.each(Object.entries(HISTORICAL_SCENARIOS))(
  'historical-feed.yaml (%s)',
  (_, parameters) => {
    const t = template('historical-feed.yaml');
    const evaluator = new TemplateEvaluator(t, {
      parameters,
      refs: { Queue: 'https://sqs.eu-west-1.amazonaws.com/111122223333/connect-wfm-test-Queue' },
    });
    const env = (id: string) =>
      asEnv(
        (evaluator.value(t.Resources[id]?.Properties?.Environment) as { Variables: Evaluated })
          .Variables,
      );

    it.each(['DeliveryFunction', 'DrainFunction'])(
      "gives %s an environment the Lambda's config accepts",
      (id) => {
        const config = loadLambdaConfig(env(id));
        expect(config.SFTP_HOST).toBe('sftp.wfm.example.com');
        expect(config.SFTP_HOST_KEY).toBe(HOST_KEY);
        expect(config.QUEUE_URL).toMatch(/^https:\/\/sqs\./);
        expect(config.KMS_KEY_ID).toBe(parameters.KmsKeyArn);
        if (parameters.SftpSecretSource === 'ssm') {
          expect(config.SFTP_SECRET_PARAMETER).toBe(parameters.SftpSecretParameterName);
          expect(config.SFTP_SECRET_ID).toBeUndefined();
        } else {
          expect(config.SFTP_SECRET_ID).toBe(
            parameters.ExistingSftpSecretArn ?? 'SftpSecret-physical-id',
          );
          expect(config.SFTP_SECRET_PARAMETER).toBeUndefined();
        }
      },
    );

    it('passes the same prefixes to the function as to the notification and IAM', () => {
      const config = loadLambdaConfig(env('DeliveryFunction'));
      expect([config.CTR_PREFIX, config.REPORT_PREFIX, config.QUARANTINE_PREFIX]).toEqual([
        evaluator.parameter('CtrPrefix'),
        evaluator.parameter('ReportPrefix'),
        evaluator.parameter('QuarantinePrefix'),
      ]);
    });
  },
);

const DAEMON_REQUIRED = {
  DeployService: 'true',
  CreateReaderRole: 'false',
  ImageUri: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/connect-wfm-rta:1.0.0',
  RtaAuthKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rta-key-AbCdEf',
  WfmUrl: 'https://wfm.example.com',
  SourceId: 'AmazonConnect',
  VpcId: 'vpc-0123456789abcdef0',
  SubnetIds: 'subnet-0123456789abcdef0',
};

const DAEMON_SCENARIOS: Record<string, Record<string, string>> = {
  'stream in this account': DAEMON_REQUIRED,
  'stream in another account': {
    ...DAEMON_REQUIRED,
    ExistingStreamArn: 'arn:aws:kinesis:eu-west-1:444455556666:stream/agent-events',
    ServiceReaderRoleArn: 'arn:aws:iam::444455556666:role/connect-wfm-reader',
    ServiceReaderExternalId: 'agreed-external-id',
  },
};

describe.each(Object.entries(DAEMON_SCENARIOS))('rta-feed.yaml (%s)', (_, parameters) => {
  const t = template('rta-feed.yaml');
  const evaluator = new TemplateEvaluator(t, {
    parameters,
    refs: { CheckpointTable: 'connect-wfm-rta-CheckpointTable-1ABC' },
    attributes: {
      'AgentEventStream.Arn':
        'arn:aws:kinesis:eu-west-1:111122223333:stream/connect-wfm-test-agent-events',
    },
  });
  const [container] = expandList(t.Resources.TaskDefinition?.Properties?.ContainerDefinitions);
  const { Environment, Secrets } = evaluator.value(container ?? null) as {
    Environment: { Name: string; Value: string }[];
    Secrets: { Name: string; ValueFrom: string }[];
  };
  // ECS puts each secret's value into its variable; a stand-in value here
  const env = {
    ...Object.fromEntries(Environment.map((e) => [e.Name, String(e.Value)])),
    ...Object.fromEntries(Secrets.map((s) => [s.Name, 'stand-in-secret-value'])),
  };

  it("gives the container an environment the daemon's config accepts", () => {
    const config = loadDaemonConfig(env);
    expect(config.httpHost).toBe('0.0.0.0');
    expect(config.store).toBe('dynamodb:connect-wfm-rta-CheckpointTable-1ABC');
    expect(config.region).toBe('eu-west-1');
    expect(config.roleArn).toBe(parameters.ServiceReaderRoleArn);
    expect(config.externalId).toBe(parameters.ServiceReaderExternalId);
  });
});

describe("the daemon's settings", () => {
  const known = new Set<string>(Object.values(SETTINGS).map((s) => s.env));

  it('include every variable the deployment files use', () => {
    for (const name of DAEMON_ENV) expect([name, known.has(name)]).toEqual([name, true]);
  });

  it('drain within the bound the unit and the task definition wait for', () => {
    const config = loadDaemonConfig({
      RTA_STREAM: 'arn:aws:kinesis:eu-west-1:111122223333:stream/s',
      RTA_WFM_URL: 'https://wfm.example.com',
      RTA_AUTH_KEY: 'stand-in',
      RTA_SOURCE_ID: 'src',
    });
    expect(config.shutdownTimeoutMs).toBeLessThanOrEqual(DAEMON_DRAIN_BOUND_S * 1000);
  });
});
