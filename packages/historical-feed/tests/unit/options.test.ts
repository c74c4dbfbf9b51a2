import { S3Client } from '@aws-sdk/client-s3';
import { HistoricalFeed, HistoricalFeedOptionsError } from '../../src/index.js';

describe('HistoricalFeed options', () => {
  it('reports every invalid option at once', () => {
    const s3 = new S3Client({ region: 'us-east-1' });
    let error: unknown;
    try {
      new HistoricalFeed({
        s3,
        uploader: { put: async () => ({ bytes: 0, remotePath: '' }) },
        reportMode: 'zip' as never,
        statsIntervalMinutes: 20 as never,
        quarantinePrefix: 'ctr/quarantine/',
        readAheadBytes: -1,
      });
    } catch (e) {
      error = e;
    }
    s3.destroy();
    expect(error).toBeInstanceOf(HistoricalFeedOptionsError);
    const e = error as HistoricalFeedOptionsError;
    expect(e.code).toBe('INVALID_OPTIONS');
    expect(e.problems.map((p) => p.path).sort()).toEqual([
      'quarantinePrefix',
      'readAheadBytes',
      'reportMode',
      'statsIntervalMinutes',
    ]);
  });
});
