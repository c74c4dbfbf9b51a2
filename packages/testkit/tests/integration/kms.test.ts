import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisabledException,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  type KMSClient,
  KMSServiceException,
  NotFoundException,
} from '@aws-sdk/client-kms';
import { type KmsPeer, startKms } from '@connect-wfm/testkit';

describe('startKms', () => {
  let kms: KmsPeer;
  let client: KMSClient;
  const context = { bucket: 'ctr-bucket', key: 'ctr/2024/01/01/a.json' };

  beforeAll(async () => {
    kms = await startKms({ keys: ['alias/ctr'] });
    client = kms.client();
  });

  afterAll(async () => {
    client.destroy();
    await kms.stop();
  });

  it('decrypts what it encrypted, without a KeyId, under the same encryption context', async () => {
    const plaintext = Buffer.from('agent secret ✓');
    const enc = await client.send(
      new EncryptCommand({ KeyId: 'alias/ctr', Plaintext: plaintext, EncryptionContext: context }),
    );

    const dec = await client.send(
      new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context }),
    );

    expect(Buffer.from(dec.Plaintext ?? []).equals(plaintext)).toBe(true);
    expect(Buffer.from(enc.CiphertextBlob ?? []).includes(plaintext)).toBe(false);
    expect(dec.KeyId).toBe(kms.keys[0]?.arn);
    expect(enc.KeyId).toBe(kms.keys[0]?.arn);
  });

  it('returns a data key whose ciphertext decrypts to the same plaintext key', async () => {
    const generated = await client.send(
      new GenerateDataKeyCommand({
        KeyId: 'alias/ctr',
        KeySpec: 'AES_256',
        EncryptionContext: context,
      }),
    );

    const dec = await client.send(
      new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext: context }),
    );

    expect(generated.Plaintext?.length).toBe(32);
    expect(Buffer.from(dec.Plaintext ?? []).equals(Buffer.from(generated.Plaintext ?? []))).toBe(
      true,
    );
  });

  it('honours NumberOfBytes and rejects a request with neither KeySpec nor NumberOfBytes', async () => {
    const generated = await client.send(
      new GenerateDataKeyCommand({ KeyId: 'alias/ctr', NumberOfBytes: 16 }),
    );
    expect(generated.Plaintext?.length).toBe(16);

    const err = await client
      .send(new GenerateDataKeyCommand({ KeyId: 'alias/ctr' }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(KMSServiceException);
    expect(err.name).toBe('ValidationException');
    expect(err.$metadata.httpStatusCode).toBe(400);
  });

  it('fails with InvalidCiphertextException under a different encryption context', async () => {
    const enc = await client.send(
      new EncryptCommand({
        KeyId: 'alias/ctr',
        Plaintext: Buffer.from('x'),
        EncryptionContext: context,
      }),
    );

    const wrong = { ...context, key: 'ctr/other.json' };
    await expect(
      client.send(
        new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: wrong }),
      ),
    ).rejects.toBeInstanceOf(InvalidCiphertextException);
    await expect(
      client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })),
    ).rejects.toBeInstanceOf(InvalidCiphertextException);
  });

  it('rejects a ciphertext blob with any single byte changed', async () => {
    const enc = await client.send(
      new EncryptCommand({ KeyId: 'alias/ctr', Plaintext: Buffer.from('payload') }),
    );
    const blob = Buffer.from(enc.CiphertextBlob ?? []);

    for (const at of [0, 1, 5, blob.length - 20, blob.length - 1]) {
      const tampered = Buffer.from(blob);
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      await expect(
        client.send(new DecryptCommand({ CiphertextBlob: tampered })),
      ).rejects.toBeInstanceOf(InvalidCiphertextException);
    }
  });

  it('throws NotFoundException for an unknown key', async () => {
    await expect(
      client.send(new EncryptCommand({ KeyId: 'alias/missing', Plaintext: Buffer.from('x') })),
    ).rejects.toBeInstanceOf(NotFoundException);
  });

  it('creates keys and aliases through the API and refuses a KeyId the blob was not made with', async () => {
    const created = await client.send(new CreateKeyCommand({ Description: 'second' }));
    const keyId = created.KeyMetadata?.KeyId ?? '';
    await client.send(new CreateAliasCommand({ AliasName: 'alias/second', TargetKeyId: keyId }));
    const described = await client.send(new DescribeKeyCommand({ KeyId: 'alias/second' }));
    expect(described.KeyMetadata?.Arn).toBe(created.KeyMetadata?.Arn);
    expect(described.KeyMetadata?.CreationDate).toBeInstanceOf(Date);

    const enc = await client.send(
      new EncryptCommand({ KeyId: 'alias/ctr', Plaintext: Buffer.from('x') }),
    );
    await expect(
      client.send(
        new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: 'alias/second' }),
      ),
    ).rejects.toBeInstanceOf(IncorrectKeyException);
  });

  it('refuses to use a disabled key', async () => {
    const key = kms.createKey('to-disable');
    await client.send(new DisableKeyCommand({ KeyId: key.keyId }));

    await expect(
      client.send(new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from('x') })),
    ).rejects.toBeInstanceOf(DisabledException);
  });

  it('records each operation for assertions', async () => {
    const before = kms.requestCount('Decrypt');
    const enc = await client.send(
      new EncryptCommand({ KeyId: 'alias/ctr', Plaintext: Buffer.from('x') }),
    );
    await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));

    expect(kms.requestCount('Decrypt')).toBe(before + 1);
    expect(kms.requests.at(-1)).toEqual({ operation: 'Decrypt', keyArn: kms.keys[0]?.arn });
  });

  it('answers an unsigned request with MissingAuthenticationTokenException', async () => {
    const res = await fetch(kms.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'TrentService.Encrypt',
      },
      body: '{}',
    });

    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
  });
});

describe('KmsPeer.stop', () => {
  it('closes the port and can be called twice', async () => {
    const kms = await startKms();

    await kms.stop();
    await kms.stop();

    await expect(fetch(kms.endpoint)).rejects.toThrow();
  });
});
