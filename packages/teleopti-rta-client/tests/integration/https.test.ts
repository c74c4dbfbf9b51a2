import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RtaReceiver, startRtaReceiver } from '@connect-wfm/testkit';
import { TeleoptiRtaClient, TlsCertificateError } from '../../src/index.js';
import { agents } from '../helpers.js';

const KEY = 'https-test-key';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A throwaway CA and a server certificate for 127.0.0.1 signed by it (P-256 keys, 2 days). */
function makeCa(dir: string, name: string): { caCert: string; caKey: string } {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { caCert: join(dir, `${name}.crt`), caKey: join(dir, `${name}.key`) };
}

function makeServerCert(dir: string, ca: { caCert: string; caKey: string }) {
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    ca.caCert,
    '-CAkey',
    ca.caKey,
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
  return {
    key: readFileSync(join(dir, 'server.key')),
    cert: readFileSync(join(dir, 'server.crt')),
  };
}

describe('HTTPS with a custom CA', () => {
  let dir: string;
  let rta: RtaReceiver;
  let caPem: string;
  let otherCaPem: string;
  const clients: TeleoptiRtaClient[] = [];

  function client(ca?: string): TeleoptiRtaClient {
    const c = new TeleoptiRtaClient({
      baseUrl: rta.url,
      authenticationKey: KEY,
      sourceId: '1',
      ...(ca === undefined ? {} : { ca }),
      retry: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 },
    });
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rta-client-tls-'));
    const ca = makeCa(dir, 'test-ca');
    caPem = readFileSync(ca.caCert, 'utf8');
    otherCaPem = readFileSync(makeCa(dir, 'other-ca').caCert, 'utf8');
    rta = await startRtaReceiver({ authenticationKey: KEY, tls: makeServerCert(dir, ca) });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await rta?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers states over HTTPS when given the CA that signed the server certificate', async () => {
    expect(rta.url.startsWith('https://127.0.0.1:')).toBe(true);

    const report = await client(caPem).sendSnapshot(agents(5));

    expect(report.statesSent).toBe(5);
    expect(rta.stateOf('agent.00004')?.stateCode).toBe('Available');
  });

  it('fails fatally, without retrying, when the server certificate is not trusted', async () => {
    const before = rta.requests.length;

    const withoutCa = await client()
      .sendStates(agents(1))
      .catch((e: unknown) => e);
    const wrongCa = await client(otherCaPem)
      .sendStates(agents(1))
      .catch((e: unknown) => e);

    for (const err of [withoutCa, wrongCa]) {
      expect(err).toBeInstanceOf(TlsCertificateError);
      expect(err).toMatchObject({ fatal: true, code: 'TLS_CERTIFICATE' });
      expect((err as Error).message).toContain('"ca" option');
    }
    expect((withoutCa as TlsCertificateError).report?.requests).toBe(1);
    expect(rta.requests.length).toBe(before);
  });

  it('keeps verifying certificates while NODE_TLS_REJECT_UNAUTHORIZED=0 is set: a self-signed server never gets the key', async () => {
    const selfSigned = mkdtempSync(join(tmpdir(), 'rta-client-self-'));
    openssl(selfSigned, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'self.key',
      '-out',
      'self.crt',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    const rogue = await startRtaReceiver({
      authenticationKey: KEY,
      tls: {
        key: readFileSync(join(selfSigned, 'self.key')),
        cert: readFileSync(join(selfSigned, 'self.crt')),
      },
    });
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    const warnings: string[] = [];
    try {
      const c = new TeleoptiRtaClient({
        baseUrl: rogue.url,
        authenticationKey: KEY,
        sourceId: '1',
        retry: { maxAttempts: 1 },
        logger: {
          debug: () => {},
          info: () => {},
          warn: (m) => warnings.push(m),
          error: () => {},
        },
      });
      clients.push(c);

      const err = await c.sendStates(agents(1)).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(TlsCertificateError);
      expect(err).toMatchObject({ fatal: true, retryable: false });
      expect(rogue.requests).toHaveLength(0);
      expect(warnings.some((w) => w.includes('NODE_TLS_REJECT_UNAUTHORIZED=0'))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
      await rogue.stop();
      rmSync(selfSigned, { recursive: true, force: true });
    }
  });
});
