// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${...} placeholders, not template literals
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CfnTemplate,
  type CfnValue,
  expandList,
  render,
  resourcesOfType,
} from '../../src/index.js';
import { DEPLOY, TEMPLATE_FILES, type TemplateFile, template } from '../support.js';

/** Parameter names that hold something secret (or secret-like) and so must be NoEcho. */
const SECRET_NAME = /password|passphrase|privatekey|accesskey|secretkey|externalid|authkey$|token/i;

/** Credential shapes that must not appear anywhere in a template's text. */
const CREDENTIAL_SHAPES: readonly [string, RegExp][] = [
  ['AWS access key id', /\b(AKIA|ASIA)[A-Z0-9]{16}\b/],
  ['PEM private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['OpenSSH private key', /OPENSSH PRIVATE KEY/],
  ['secret value literal', /^\s*SecretString\s*:/m],
  ['dynamic secret reference', /\{\{resolve:(secretsmanager|ssm-secure):/],
];

/**
 * NoEcho parameters that may reach a plain environment variable, with the reason. An external
 * ID is an identifier the two parties agree on, not a credential (AWS says so); it is NoEcho only
 * to keep it off the console.
 */
const NO_ECHO_IN_ENVIRONMENT: Record<TemplateFile, readonly string[]> = {
  'historical-feed.yaml': [],
  'rta-feed.yaml': ['ServiceReaderExternalId'],
};

function noEchoParameters(t: CfnTemplate): string[] {
  return Object.entries(t.Parameters ?? {})
    .filter(([, p]) => p.NoEcho === true || p.NoEcho === 'true')
    .map(([name]) => name);
}

/** Every environment variable value of Lambda functions and ECS containers, rendered. */
function environmentValues(t: CfnTemplate): { where: string; name: string; values: string[] }[] {
  const out: { where: string; name: string; values: string[] }[] = [];
  for (const [id, fn] of resourcesOfType(t, 'AWS::Lambda::Function')) {
    const env =
      (fn.Properties?.Environment as { Variables?: Record<string, CfnValue> } | undefined)
        ?.Variables ?? {};
    for (const [name, value] of Object.entries(env))
      out.push({ where: id, name, values: render(value) });
  }
  for (const [id, task] of resourcesOfType(t, 'AWS::ECS::TaskDefinition')) {
    for (const container of expandList(task.Properties?.ContainerDefinitions)) {
      const env = (container as { Environment?: CfnValue }).Environment;
      for (const entry of expandList(env)) {
        const { Name, Value } = entry as { Name: string; Value: CfnValue };
        out.push({ where: id, name: Name, values: render(Value) });
      }
    }
  }
  return out;
}

describe.each(TEMPLATE_FILES)('%s: no secret in the template', (file) => {
  const t = template(file);
  const text = readFileSync(join(DEPLOY, file), 'utf8');
  const noEcho = noEchoParameters(t);

  it('marks every secret-like parameter NoEcho, with no default value', () => {
    const secretLike = Object.entries(t.Parameters ?? {}).filter(
      ([name]) => SECRET_NAME.test(name) && !/Arn$/.test(name),
    );
    for (const [name, p] of secretLike) {
      expect([name, p.NoEcho, p.Default ?? '']).toEqual([name, true, '']);
    }
  });

  it('holds no credential-shaped text', () => {
    const found = CREDENTIAL_SHAPES.filter(([, re]) => re.test(text)).map(([what]) => what);
    expect(found).toEqual([]);
  });

  it('creates no access key and reads no secret access key', () => {
    expect(resourcesOfType(t, 'AWS::IAM::AccessKey')).toEqual([]);
    expect(text).not.toMatch(/SecretAccessKey/);
  });

  it('outputs no NoEcho parameter and no secret value', () => {
    for (const [name, output] of Object.entries(t.Outputs ?? {})) {
      const values = render(output.Value);
      for (const p of noEcho)
        expect([name, values.join(' ')]).not.toEqual([name, expect.stringContaining(`\${${p}}`)]);
      // a Secrets Manager secret's Ref is its ARN; nothing may read its value into an output
      expect([name, JSON.stringify(output.Value)]).not.toEqual([
        name,
        expect.stringMatching(/SecretString|resolve:/),
      ]);
    }
  });

  it('creates secrets without a value (GenerateSecretString placeholder at most)', () => {
    for (const [id, secret] of resourcesOfType(t, 'AWS::SecretsManager::Secret')) {
      expect([id, secret.Properties?.SecretString]).toEqual([id, undefined]);
    }
  });

  it('puts a NoEcho parameter into an environment only where listed', () => {
    const leaked = environmentValues(t)
      .filter((e) => noEcho.some((p) => e.values.some((v) => v.includes(`\${${p}}`))))
      .map((e) => e.values.join(''))
      .map((v) => v.replace(/^\$\{(.*)\}$/, '$1'));
    expect(leaked.sort()).toEqual([...NO_ECHO_IN_ENVIRONMENT[file]].sort());
  });
});

describe('rta-feed.yaml: the WFM key', () => {
  it('reaches the container through ECS secrets, never as plain environment', () => {
    const t = template('rta-feed.yaml');
    const env = environmentValues(t);
    expect(env.map((e) => e.name)).not.toContain('RTA_AUTH_KEY');
    const [container] = expandList(t.Resources.TaskDefinition?.Properties?.ContainerDefinitions);
    expect((container as { Secrets?: CfnValue }).Secrets).toEqual([
      { Name: 'RTA_AUTH_KEY', ValueFrom: { Ref: 'RtaAuthKeySecretArn' } },
    ]);
  });
});

describe('historical-feed.yaml: the SFTP credentials', () => {
  it('reach the function as a secret id or a parameter name, never as a value', () => {
    const env = environmentValues(template('historical-feed.yaml'));
    const names = new Set(env.map((e) => e.name));
    expect(names.has('SFTP_SECRET_ID')).toBe(true);
    expect(names.has('SFTP_SECRET_PARAMETER')).toBe(true);
    for (const forbidden of ['SFTP_PASSWORD', 'SFTP_PRIVATE_KEY', 'SFTP_PASSPHRASE'])
      expect(names.has(forbidden)).toBe(false);
    for (const e of env.filter((x) => x.name === 'SFTP_SECRET_ID')) {
      expect([...e.values].sort()).toEqual(['${ExistingSftpSecretArn}', '${SftpSecret}']);
    }
    for (const e of env.filter((x) => x.name === 'SFTP_SECRET_PARAMETER')) {
      expect(e.values).toEqual(['${SftpSecretParameterName}']);
    }
  });
});
