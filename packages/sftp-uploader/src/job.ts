import type { Logger } from '@connect-wfm/core';
import type { ChunkSource } from './body.js';
import type { Connection } from './connection.js';
import { type Failure, FailureError } from './failures.js';
import type { ResolvedOptions } from './options.js';
import type { RemoteTarget } from './paths.js';
import type { TransferState } from './transfer.js';
import type { SftpPutResult } from './types.js';

/** How a file was published (see {@link SftpPutResult.publishedWith}). */
export type PublishedWith = SftpPutResult['publishedWith'];

/** What the steps of an upload need from the uploader that runs them. */
export interface Session {
  readonly options: ResolvedOptions;
  readonly log: Logger;
  /** `host:port`. */
  readonly server: string;
  /** Text quoted from ssh2 or the server, made fit for a message (see `quoteForeign`). */
  quote(text: string): string;
  /**
   * Temporary files of earlier failed uploads that the clean-up could not remove (the server was
   * unreachable): removed once a connection works again. Only names this uploader created.
   */
  readonly orphans: Set<string>;
  /**
   * A short-lived extra connection for a clean-up step (timeouts bounded to a few seconds, host
   * key checked as for the main connection); the caller ends it.
   */
  openCleanupConnection(): Promise<Connection>;
}

/**
 * One file being uploaded, across its attempts: the names it owns on the server and how far it
 * got. Every remote name it touches besides the final one was created by this upload under an
 * unpredictable name (see DESIGN.md#temporary-names).
 */
export interface FileJob {
  readonly target: RemoteTarget;
  readonly source: ChunkSource;
  readonly state: TransferState;
  /** Our temporary file, from the moment its exclusive creation is requested. */
  temp: string | undefined;
  /** Whether `temp` holds the whole body and is closed. */
  written: boolean;
  /** The rename of `temp` to the final name that was sent (its answer may have been lost). */
  renameSent: PublishedWith | undefined;
  /** Where the previous final file was moved aside while replacing it without posix-rename. */
  backup: string | undefined;
  /** Whether an interrupted transfer was resumed. */
  resumed: boolean;
}

/** A permanent failure of a step (not retried), carried out of the steps as an exception. */
export function permanent(
  code: Failure['code'],
  reason: string,
  hint: string,
  cause?: unknown,
): FailureError {
  return new FailureError({ code, retryable: false, reason, hint, cause });
}
