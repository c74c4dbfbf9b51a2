/**
 * AWS clients: the default credential chain, or an assumed role (with an external ID) for
 * reading another account's stream. Local endpoints (kinesalite, dynalite) for tests and demos.
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { RtaServiceConfig } from './config.js';

/**
 * The Kinesis client the reader uses. HTTP/1.1 (`NodeHttpHandler`): local endpoints do not speak
 * HTTP/2, and polling GetRecords gains nothing from it.
 */
export function createKinesisClient(config: RtaServiceConfig): KinesisClient {
  const credentials =
    config.roleArn === undefined
      ? undefined
      : fromTemporaryCredentials({
          params: {
            RoleArn: config.roleArn,
            RoleSessionName: `connect-wfm-rta-${process.pid}`,
            DurationSeconds: 3600,
            ...(config.externalId === undefined ? {} : { ExternalId: config.externalId }),
          },
          clientConfig: { region: config.region },
        });
  return new KinesisClient({
    region: config.region,
    ...(config.kinesisEndpoint === undefined ? {} : { endpoint: config.kinesisEndpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000 }),
  });
}
