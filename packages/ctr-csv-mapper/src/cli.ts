#!/usr/bin/env node
/**
 * `ctr-csv`: the command-line front end of @connect-wfm/ctr-csv-mapper.
 *
 * Exit codes: 0 every record converted; 2 some records were bad (the good ones are still
 * written, stderr lists the first ones and counts the rest); 1 usage or I/O error.
 */
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mapAgentPerformanceReport } from './agent-performance.js';
import { HELP, parseSettings, type Settings } from './cli/args.js';
import { checkInputs, type Output, openOutput } from './cli/output.js';
import { Progress } from './cli/progress.js';
import { BadRecordTally, describe, escapeControl } from './cli/report.js';
import { firehoseObjectToCsv } from './csv.js';
import { readFirehoseBatches } from './reader.js';
import { IntervalStatsAccumulator } from './stats.js';
import type { ByteSource } from './types.js';

/**
 * Read size for input files. Each read is a round trip through libuv's thread pool; with Node's
 * default 64 KiB that overhead was about a fifth of a 110 MB conversion on a small VM, and 1 MiB
 * reads cut it fourfold or more. Memory stays bounded: at most a few such chunks are held.
 */
const FILE_READ_BYTES = 1024 * 1024;

function openInput(name: string): { source: ByteSource; sourceName: string } {
  if (name === '-') return { source: process.stdin, sourceName: '(stdin)' };
  return { source: createReadStream(name, { highWaterMark: FILE_READ_BYTES }), sourceName: name };
}

async function writeText(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) {
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        out.off('error', onError);
        resolve();
      };
      const onError = (err: Error): void => {
        out.off('drain', onDrain);
        reject(err);
      };
      out.once('drain', onDrain);
      out.once('error', onError);
    });
  }
}

/** What a run has seen so far (also read when the output pipe closes early). */
interface RunState {
  readonly bad: BadRecordTally;
  readonly progress: Progress;
}

async function run(settings: Settings, out: Writable, state: RunState): Promise<void> {
  const { bad, progress } = state;
  const onBadRecord = bad.add;
  // The summary shows previews only: the reader need not copy any bad bytes.
  const maxBadBytes = 0;
  try {
    if (settings.format === 'ctr') {
      for (let i = 0; i < settings.inputs.length; i++) {
        progress.startFile(i);
        const { source, sourceName } = openInput(settings.inputs[i] as string);
        const csv = firehoseObjectToCsv(source, {
          sourceName,
          header: i === 0,
          arn: settings.arn,
          formulaEscape: settings.formulaEscape,
          maxBadBytes,
          onBadRecord,
          onProgress: progress.update,
        });
        await pipeline(csv, out, { end: false });
      }
    } else if (settings.format === 'agent-performance') {
      for (let i = 0; i < settings.inputs.length; i++) {
        progress.startFile(i);
        const { source, sourceName } = openInput(settings.inputs[i] as string);
        // Streamed in: the mapping stops reading at its size limit (a report is small).
        const { csv } = await mapAgentPerformanceReport(source, {
          split15: settings.split15,
          reportIntervalMinutes: settings.reportInterval,
          sourceName,
          formulaEscape: settings.formulaEscape,
        });
        await writeText(out, i === 0 ? csv : csv.slice(csv.indexOf('\n') + 1));
      }
    } else {
      const acc = new IntervalStatsAccumulator({
        intervalMinutes: settings.interval,
        slaSeconds: settings.sla,
        shortAbandonSeconds: settings.shortAbandon,
        arn: settings.arn,
      });
      for (let i = 0; i < settings.inputs.length; i++) {
        progress.startFile(i);
        const { source, sourceName } = openInput(settings.inputs[i] as string);
        for await (const batch of readFirehoseBatches(source, {
          sourceName,
          maxBadBytes,
          onBadRecord,
          onProgress: progress.update,
        })) {
          acc.addItems(batch);
        }
      }
      await writeText(
        out,
        acc.toCsv(settings.format === 'queue-stats' ? 'queue' : 'agent-queue', {
          formulaEscape: settings.formulaEscape,
        }),
      );
    }
  } finally {
    progress.finish();
  }
}

async function main(argv: string[]): Promise<number> {
  let settings: Settings | 'help';
  try {
    settings = parseSettings(argv);
  } catch (err) {
    const msg = escapeControl(err instanceof Error ? err.message : String(err));
    process.stderr.write(`ctr-csv: ${msg}\nTry 'ctr-csv --help' for the options.\n`);
    return 1;
  }
  if (settings === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const state: RunState = { bad: new BadRecordTally(), progress: new Progress(settings.inputs) };
  let output: Output | undefined;
  try {
    checkInputs(settings.inputs);
    if (settings.output !== undefined) output = await openOutput(settings.output, settings.inputs);
  } catch (err) {
    process.stderr.write(`ctr-csv: ${describe(err)}\n`);
    return 1;
  }
  const out: Writable = output?.stream ?? process.stdout;
  if (output === undefined) {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      // A closed pipe (`ctr-csv big.json | head`) ends the run quietly, with the exit code of
      // what was read so far.
      if (err.code !== 'EPIPE') return;
      if (state.bad.count > 0) process.stderr.write(state.bad.summary(state.progress.records));
      process.exit(state.bad.count > 0 ? 2 : 0);
    });
  }
  try {
    await run(settings, out, state);
    await output?.commit();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // A failed write (a full disk, say) names no file: it is the output's.
    if (e.syscall === 'write' && e.path === undefined) e.path = settings.output ?? '(stdout)';
    process.stderr.write(`ctr-csv: ${describe(err)}\n`);
    await output?.abort();
    return 1;
  }
  if (state.bad.count > 0) {
    process.stderr.write(state.bad.summary(state.progress.records));
    return 2;
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
