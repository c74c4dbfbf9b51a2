/** A stream given by name or by ARN. */
export interface StreamRef {
  /** The stream name. */
  readonly name: string;
  /** The ARN, when the stream was given as one. */
  readonly arn: string | undefined;
  /** Region from the ARN. */
  readonly region: string | undefined;
  /** Account id from the ARN. */
  readonly accountId: string | undefined;
}

const NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
const ARN = /^arn:(aws[a-z-]*):kinesis:([a-z0-9-]+):(\d{12}):stream\/([a-zA-Z0-9_.-]{1,128})$/;

/**
 * Parses a stream name or ARN; returns undefined when it is neither.
 *
 * @example
 * parseStreamRef('arn:aws:kinesis:eu-west-1:123456789012:stream/agent-events');
 * // { name: 'agent-events', arn: 'arn:aws:...', region: 'eu-west-1', accountId: '123456789012' }
 */
export function parseStreamRef(stream: string): StreamRef | undefined {
  const arn = ARN.exec(stream);
  if (arn !== null) {
    return { name: arn[4] ?? '', arn: stream, region: arn[2], accountId: arn[3] };
  }
  if (NAME.test(stream)) {
    return { name: stream, arn: undefined, region: undefined, accountId: undefined };
  }
  return undefined;
}

/**
 * The parameter that names the stream in an API call: `StreamARN` when given an ARN,
 * `StreamName` otherwise.
 *
 * @example
 * await client.send(new ListShardsCommand({ ...streamParam(ref) }));
 */
export function streamParam(ref: StreamRef): { StreamARN: string } | { StreamName: string } {
  return ref.arn === undefined ? { StreamName: ref.name } : { StreamARN: ref.arn };
}
