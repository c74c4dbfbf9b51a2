import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Logger } from '@connect-wfm/core';
import type { MessageOutcome } from '@connect-wfm/historical-feed';

/**
 * One structured JSON logger and one EMF metrics emitter per container (Powertools for AWS
 * Lambda). The packages receive the logger through core's `Logger` shape.
 */
export interface Observability {
  readonly powertools: PowertoolsLogger;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Adds the metrics of one message's outcome. */
  record(outcome: MessageOutcome): void;
}

/** Creates the logger and metrics. */
export function createObservability(options: {
  serviceName: string;
  namespace: string;
  logLevel: string;
}): Observability {
  const powertools = new PowertoolsLogger({
    serviceName: options.serviceName,
    logLevel: options.logLevel as 'INFO',
  });
  const logger: Logger = {
    debug: (m, c) => powertools.debug(m, c ?? {}),
    info: (m, c) => powertools.info(m, c ?? {}),
    warn: (m, c) => powertools.warn(m, c ?? {}),
    error: (m, c) => powertools.error(m, c ?? {}),
  };
  const metrics = new Metrics({ namespace: options.namespace, serviceName: options.serviceName });
  return {
    powertools,
    logger,
    metrics,
    record(outcome) {
      metrics.addMetric('messages', MetricUnit.Count, 1);
      if (!outcome.acknowledge) metrics.addMetric('messagesFailed', MetricUnit.Count, 1);
      for (const o of outcome.objects) {
        if (o.status === 'delivered') {
          metrics.addMetric('objectsDelivered', MetricUnit.Count, 1);
          metrics.addMetric('records', MetricUnit.Count, o.records);
          metrics.addMetric('badRecords', MetricUnit.Count, o.badRecords);
          metrics.addMetric('bytesIn', MetricUnit.Bytes, o.bytesIn);
          metrics.addMetric(
            'bytesOut',
            MetricUnit.Bytes,
            o.files.reduce((n, f) => n + f.bytes, 0),
          );
          metrics.addMetric('deliveryTime', MetricUnit.Milliseconds, o.durationMs);
        } else if (o.status === 'already-delivered') {
          metrics.addMetric('objectsAlreadyDelivered', MetricUnit.Count, 1);
        } else if (o.status === 'failed') {
          metrics.addMetric('objectsFailed', MetricUnit.Count, 1);
        }
      }
    },
  };
}
