/**
 * The `ctr-csv` inputs check and its output file: written under a temporary name beside the
 * target and renamed over it only when complete.
 */
import {
  accessSync,
  constants,
  createWriteStream,
  fstatSync,
  type Stats,
  statSync,
  unlinkSync,
  type WriteStream,
} from 'node:fs';
import { realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { UsageError } from './args.js';

/**
 * Checks every input before anything is written, so that a missing, unreadable or directory
 * input costs no partial output. Throws the file system's error (named by `describe`).
 */
export function checkInputs(inputs: readonly string[]): void {
  for (const name of inputs) {
    const st = name === '-' ? fstatSync(0) : statSync(name);
    if (st.isDirectory()) {
      throw new UsageError(
        `${name === '-' ? 'standard input' : JSON.stringify(name)} is a directory, not a file`,
      );
    }
    if (name !== '-') accessSync(name, constants.R_OK);
  }
}

/** Where the output goes, and how the run ends it. */
export interface Output {
  readonly stream: Writable;
  /** Flushes and closes the output (a write error, such as a full disk, rejects), then publishes it. */
  commit(): Promise<void>;
  /** Discards the output after a failure. */
  abort(): Promise<void>;
}

/** Temporary output files to remove if the process is interrupted. */
const pendingFiles = new Set<string>();
let signalsHooked = false;

function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      for (const f of pendingFiles) {
        try {
          unlinkSync(f);
        } catch {
          // already gone
        }
      }
      process.exit(code);
    });
  }
}

function opened(stream: WriteStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
}

async function closeStream(stream: Writable): Promise<void> {
  stream.end();
  await finished(stream);
}

/**
 * Opens `-o FILE`. A regular file (or a new one) is written beside the target under a temporary
 * name and renamed over it only by {@link Output.commit}: readers of FILE never see a partial
 * file, and a failed run leaves FILE as it was. A device or a pipe (`/dev/stdout`, a FIFO) is
 * written in place. FILE must not be one of the inputs (it would be replaced by its own CSV).
 */
export async function openOutput(path: string, inputs: readonly string[]): Promise<Output> {
  let existing: Stats | undefined;
  try {
    existing = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (existing?.isDirectory() === true) {
    throw new UsageError(`-o ${JSON.stringify(path)} is a directory, not a file`);
  }
  if (existing !== undefined) {
    for (const name of inputs) {
      if (name === '-') continue;
      const st = statSync(name);
      if (st.dev === existing.dev && st.ino === existing.ino) {
        throw new UsageError(
          `the output file ${JSON.stringify(path)} is also an input: write to another file`,
        );
      }
    }
  }
  if (existing !== undefined && !existing.isFile()) {
    const stream = createWriteStream(path);
    await opened(stream);
    return {
      stream,
      commit: () => closeStream(stream),
      abort: async () => {
        stream.destroy();
      },
    };
  }
  // Through a symbolic link, the file it points to is replaced, not the link.
  const target = existing === undefined ? path : await realpath(path);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  // Registered before the file exists: an interrupt right after it is created still removes it.
  pendingFiles.add(temp);
  hookSignals();
  const stream = createWriteStream(temp, {
    flags: 'wx',
    mode: existing === undefined ? 0o666 : existing.mode & 0o777,
  });
  try {
    await opened(stream);
  } catch (err) {
    pendingFiles.delete(temp); // not created by this run (it may exist from another)
    throw missingDirectory(err, path, dirname(target)) ?? err;
  }
  return {
    stream,
    commit: async () => {
      await closeStream(stream);
      await rename(temp, target);
      pendingFiles.delete(temp);
    },
    abort: async () => {
      stream.destroy();
      await unlink(temp).catch(() => {});
      pendingFiles.delete(temp);
    },
  };
}

/**
 * The temporary file could not be created because the output's directory does not exist (or is
 * not a directory): an error that names that directory, not the temporary file.
 */
function missingDirectory(err: unknown, path: string, dir: string): UsageError | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
  return new UsageError(
    `cannot write -o ${JSON.stringify(path)}: the directory ${JSON.stringify(dir)} does not exist${code === 'ENOTDIR' ? ' (a part of it is not a directory)' : ''}; create it first`,
  );
}
