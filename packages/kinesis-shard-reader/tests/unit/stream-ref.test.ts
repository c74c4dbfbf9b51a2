import { parseStreamRef } from '@connect-wfm/kinesis-shard-reader';
import { streamParam } from '../../src/stream-ref.js';

describe('parseStreamRef', () => {
  it('takes the region, account and name from an ARN and names the stream by ARN in calls', () => {
    const ref = parseStreamRef('arn:aws:kinesis:eu-west-1:123456789012:stream/agent-events');
    expect(ref).toEqual({
      name: 'agent-events',
      arn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/agent-events',
      region: 'eu-west-1',
      accountId: '123456789012',
    });
    expect(
      streamParam(ref ?? { name: '', arn: undefined, region: undefined, accountId: undefined }),
    ).toEqual({
      StreamARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/agent-events',
    });
  });

  it('accepts other partitions', () => {
    expect(parseStreamRef('arn:aws-cn:kinesis:cn-north-1:123456789012:stream/s')?.region).toBe(
      'cn-north-1',
    );
  });

  it('names the stream by name when given a name', () => {
    const ref = parseStreamRef('agent-events');
    expect(ref?.arn).toBeUndefined();
    expect(ref && streamParam(ref)).toEqual({ StreamName: 'agent-events' });
  });

  it('rejects what is neither', () => {
    for (const bad of [
      '',
      'has space',
      'arn:aws:s3:::bucket',
      'x'.repeat(129),
      'arn:aws:kinesis:eu-west-1:1:stream/s',
    ]) {
      expect(parseStreamRef(bad)).toBeUndefined();
    }
  });
});
