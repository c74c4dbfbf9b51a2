/**
 * `connect-wfm-rta`: parses the command line, loads the configuration (exit 78 listing every
 * problem), starts the operator HTTP endpoint and the daemon, and maps the outcome to an exit
 * code (0 after a drain on SIGTERM/SIGINT, 78 configuration refused, 1 other fatal errors).
 */
import { TeleoptiRtaClient } from '@connect-wfm/teleopti-rta-client';
import { createKinesisClient } from './aws.js';
import { ConfigError, describeConfig, EX_CONFIG, helpText, loadConfig } from './config.js';
import { RtaDaemon } from './daemon.js';
import { startHttp } from './http.js';
import { createLogger, errorInfo, libraryLogger } from './log.js';
import { RtaMetrics } from './metrics.js';
import { applyHeapGrowth } from './runtime.js';
import { createStore } from './store.js';

interface Args {
  config?: string;
  checkConfig: boolean;
  help: boolean;
  problems: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { checkConfig: false, help: false, problems: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--check-config') args.checkConfig = true;
    else if (a === '--config') {
      const file = argv[i + 1];
      if (file === undefined || file.startsWith('--')) args.problems.push('--config needs a file');
      else {
        args.config = file;
        i += 1;
      }
    } else if (a.startsWith('--config=')) args.config = a.slice('--config='.length);
    else args.problems.push(`unknown argument ${JSON.stringify(a.slice(0, 80))}`);
  }
  return args;
}

/** Runs the command; resolves with the exit code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const args = parseArgs(argv);
  if (args.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  if (args.problems.length > 0) {
    process.stderr.write(
      `connect-wfm-rta: ${args.problems.join('; ')}\nRun connect-wfm-rta --help for the usage.\n`,
    );
    return EX_CONFIG;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, args.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`connect-wfm-rta: ${err.message}\n`);
      return EX_CONFIG;
    }
    throw err;
  }
  if (args.checkConfig) {
    process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`);
    return 0;
  }

  // before anything is read: V8 reads the flag at every collection (DESIGN.md#memory)
  const heapGrowth = applyHeapGrowth(config.heapGrowingPercent);
  const log = createLogger(config.logLevel, config.logFormat);
  const metrics = new RtaMetrics();
  const daemon = new RtaDaemon(config, log, metrics);
  let wfm: TeleoptiRtaClient;
  try {
    wfm = new TeleoptiRtaClient({
      baseUrl: config.wfmUrl,
      authenticationKey: config.authKey,
      sourceId: config.sourceId,
      timeoutMs: Math.min(30_000, config.postDeadlineMs),
      logger: libraryLogger(log, 'wfm'),
      onRetry: (e) => {
        metrics.postRetries.inc();
        metrics.wfmErrors.inc({ reason: e.reason });
      },
    });
  } catch (err) {
    process.stderr.write(`connect-wfm-rta: invalid configuration: ${(err as Error).message}\n`);
    return EX_CONFIG;
  }
  const http = await startHttp(config.httpHost, config.httpPort, metrics, () =>
    daemon.readiness(),
  ).catch((err: unknown) => {
    log.fatal(errorInfo(err), 'cannot listen on the operator HTTP port');
    return undefined;
  });
  if (http === undefined) return 1;
  log.info(
    { config: describeConfig(config), httpPort: http.port, version: process.version, heapGrowth },
    'connect-wfm-rta starting',
  );

  const store = await createStore(config, libraryLogger(log, 'store'));
  const kinesis = createKinesisClient(config);
  let forced: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (forced !== undefined) {
      log.warn({ signal }, 'second signal: exiting without finishing the drain');
      process.exit(1);
    }
    daemon.stop(signal);
    forced = setTimeout(() => {
      log.error(
        { timeoutMs: config.shutdownTimeoutMs },
        'drain did not finish in time; exiting (the next start reads the rest again)',
      );
      process.exit(1);
    }, config.shutdownTimeoutMs);
    forced.unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const code = await daemon.run(store, kinesis, wfm);
  await store.close().catch(() => undefined);
  kinesis.destroy();
  await wfm.close().catch(() => undefined);
  await new Promise<void>((resolve) => http.server.close(() => resolve()));
  http.server.closeAllConnections();
  if (forced !== undefined) clearTimeout(forced);
  log.info({ exitCode: code }, 'connect-wfm-rta stopped');
  return code;
}
