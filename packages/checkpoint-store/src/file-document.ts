import { z } from 'zod';
import { emptyShards, type ScopeState, SHARD_ID_PATTERN } from './core.js';

// The checkpoint file's JSON layout (validated with zod) and its conversion to and from the
// state a scope has in memory.

/** `format` value of a checkpoint file. */
export const FILE_FORMAT = 'connect-wfm-checkpoints';
/**
 * Newest layout version this release reads and writes. Version 2 adds a scope's `committed`
 * state (written by `commit()`); a file is written as version 1 while no scope holds one, so
 * older releases keep reading it.
 */
export const FILE_VERSION = 2;

const isoDate = z.iso.datetime();
const sequenceNumber = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,128})$/)
  .nullable();
const checkpointEntry = z.strictObject({
  shardId: z.string().regex(SHARD_ID_PATTERN, {
    message: 'not a Kinesis shard id (1–128 characters of [a-zA-Z0-9_.-])',
  }),
  sequenceNumber,
  shardEnd: z.boolean(),
  updatedAt: isoDate,
});
/** The whole checkpoint file. */
export const fileSchema = z.strictObject({
  format: z.literal(FILE_FORMAT),
  version: z.union([z.literal(1), z.literal(FILE_VERSION)]),
  scopes: z.array(
    z.strictObject({
      application: z.string(),
      stream: z.string(),
      lease: z
        .strictObject({
          owner: z.string().nullable(),
          token: z.number().int().nonnegative(),
          expiresAt: isoDate,
        })
        .nullable(),
      checkpoints: z.array(checkpointEntry),
      /** The last commit(): its state as JSON text, and the checkpoints right after it. */
      committed: z
        .strictObject({
          writtenAt: isoDate,
          checkpoints: z.array(checkpointEntry),
          state: z.string(),
        })
        .optional(),
    }),
  ),
});

/** A parsed checkpoint file. */
export type FileDocument = z.infer<typeof fileSchema>;
/** One (application, stream) scope in the file. */
export type FileScope = FileDocument['scopes'][number];

/** The scope of (application, stream) in `doc`, if it has one. */
export function findScope(
  doc: FileDocument,
  application: string,
  stream: string,
): FileScope | undefined {
  return doc.scopes.find((s) => s.application === application && s.stream === stream);
}

type FileCheckpoint = FileScope['checkpoints'][number];

function toShards(entries: readonly FileCheckpoint[]): ScopeState['shards'] {
  const shards = emptyShards();
  for (const cp of entries) {
    shards[cp.shardId] = {
      sequenceNumber: cp.sequenceNumber,
      shardEnd: cp.shardEnd,
      updatedAt: Date.parse(cp.updatedAt),
    };
  }
  return shards;
}

function fromShards(shards: ScopeState['shards']): FileCheckpoint[] {
  return Object.keys(shards)
    .sort(compareText)
    .map((shardId) => {
      const rec = shards[shardId];
      return {
        shardId,
        sequenceNumber: rec?.sequenceNumber ?? null,
        shardEnd: rec?.shardEnd ?? false,
        updatedAt: new Date(rec?.updatedAt ?? 0).toISOString(),
      };
    });
}

/** The in-memory state of a scope read from the file (empty when it has none). */
export function toScopeState(scope: FileScope | undefined): ScopeState {
  if (scope === undefined) return { shards: emptyShards(), lease: null };
  const shards = toShards(scope.checkpoints);
  const lease =
    scope.lease === null
      ? null
      : {
          owner: scope.lease.owner,
          token: scope.lease.token,
          expiresAt: Date.parse(scope.lease.expiresAt),
        };
  const state: ScopeState = { shards, lease };
  if (scope.committed !== undefined) {
    state.committed = {
      state: scope.committed.state,
      shards: toShards(scope.committed.checkpoints),
      writtenAt: Date.parse(scope.committed.writtenAt),
    };
  }
  return state;
}

/** The file entry of a scope's in-memory state. */
export function fromScopeState(application: string, stream: string, state: ScopeState): FileScope {
  const scope: FileScope = {
    application,
    stream,
    lease:
      state.lease === null
        ? null
        : {
            owner: state.lease.owner,
            token: state.lease.token,
            expiresAt: new Date(state.lease.expiresAt).toISOString(),
          },
    checkpoints: fromShards(state.shards),
  };
  if (state.committed !== undefined) {
    scope.committed = {
      writtenAt: new Date(state.committed.writtenAt).toISOString(),
      checkpoints: fromShards(state.committed.shards),
      state: state.committed.state,
    };
  }
  return scope;
}
/** Orders by UTF-16 code units (locale-independent, as the file is sorted). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The message of an error, or the value as text. */
export function errorText(err: unknown): string {
  return typeof err === 'object' && err !== null && 'message' in err
    ? String((err as { message: unknown }).message)
    : String(err);
}
/** Where JSON.parse failed (`position N`, `line L column C`), without quoting the content. */
export function jsonErrorWhere(err: unknown, text: string): string {
  const message = errorText(err);
  const position = /position (\d+)/.exec(message)?.[1];
  if (position !== undefined) {
    const before = text.slice(0, Number(position));
    const line = before.split('\n').length;
    const column = Number(position) - before.lastIndexOf('\n');
    return `parse error at character ${position}, line ${line} column ${column}`;
  }
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn !== null) return `parse error at line ${lineColumn[1]} column ${lineColumn[2]}`;
  return text.trim().length === 0 ? 'the file is empty' : 'parse error';
}
