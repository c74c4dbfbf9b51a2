import { MAX_STATE_CODE_LENGTH, SEQUENCE_NUMBER_PATTERN } from '@connect-wfm/core';
/**
 * zod schemas: the boundary contracts of this package (agent events, options, exported state).
 */
import { z } from 'zod';

/**
 * A contact in `CurrentAgentSnapshot.Contacts`. Only the fields the derivation reads are
 * validated; every other field is accepted as it is and not copied.
 */
const contactSchema = z.object({
  State: z.string().nullish(),
  Channel: z.string().nullish(),
});

/** A user code must contain a character other than white space (`String.prototype.trim` set). */
export const NOT_BLANK = /\S/;

/**
 * The parts of an Amazon Connect agent event this package uses. `z.object` (not strict, not
 * loose): unknown fields are allowed and are not copied into the result, so validating a ~2 KB
 * event costs about as much as reading its few used fields.
 */
export const agentEventSchema = z.object({
  EventId: z.string().nullish(),
  EventType: z.string(),
  EventTimestamp: z.iso.datetime({ offset: true }),
  AgentARN: z.string().nullish(),
  CurrentAgentSnapshot: z.object({
    AgentStatus: z.object({
      ARN: z.string().min(1),
      Name: z.string().min(1),
      Type: z.string().nullish(),
    }),
    Configuration: z.object({
      Username: z
        .string()
        .min(1)
        .regex(NOT_BLANK, 'must contain a character other than white space'),
    }),
    Contacts: z.array(contactSchema).nullish(),
  }),
});

/**
 * An agent event as this package sees it: the validated subset of Connect's agent event
 * (field names as Connect writes them). Other fields may be present and are ignored.
 */
export type AgentEvent = z.output<typeof agentEventSchema>;

const stateCodeSchema = z.string().min(1).max(MAX_STATE_CODE_LENGTH);
const partialMappingSchema = z.strictObject({
  stateCode: stateCodeSchema.optional(),
  stateDescription: z.string().optional(),
});

const loggerSchema = z.custom<unknown>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    ['debug', 'info', 'warn', 'error'].every(
      (k) => typeof (v as Record<string, unknown>)[k] === 'function',
    ),
  'expected a logger with debug, info, warn and error functions',
);

/** Options of the derivation (`DeriveOptions`), strict: unknown keys are errors. */
export const deriveOptionsShape = {
  mode: z.enum(['contact-aware', 'status-only']).optional(),
  stateCodeFrom: z.enum(['name', 'arn']).optional(),
  includeChannel: z.boolean().optional(),
  signedOffStatusNames: z.array(z.string()).readonly().optional(),
  loggedOut: partialMappingSchema.optional(),
  contactStates: z
    .strictObject({
      OnContact: partialMappingSchema.optional(),
      OnHold: partialMappingSchema.optional(),
      Offered: partialMappingSchema.optional(),
      AfterContactWork: partialMappingSchema.optional(),
      Missed: partialMappingSchema.optional(),
    })
    .optional(),
  channelPrecedence: z.array(z.string().min(1)).readonly().optional(),
};

export const deriveOptionsSchema = z.strictObject(deriveOptionsShape);

/** Options of `RtaDeltaCollapser` (`RtaDeltaCollapserOptions`). */
export const collapserOptionsSchema = z.strictObject({
  ...deriveOptionsShape,
  dedupeWindow: z.int().min(0).max(50_000_000).optional(),
  stayLoggedOutUntilLogin: z.boolean().optional(),
  onReject: z.custom<unknown>((v) => typeof v === 'function', 'expected a function').optional(),
  logger: loggerSchema.optional(),
});

const mappingSchema = z.strictObject({
  stateCode: stateCodeSchema,
  stateDescription: z.string(),
});

const positionSchema = z.strictObject({
  eventTimestamp: z.iso.datetime({ offset: true }),
  shardId: z.string().min(1),
  sequenceNumber: z.string().regex(SEQUENCE_NUMBER_PATTERN),
});

/**
 * The state written by `exportState()`: version 2 (with `derived`, `lastLogout`, `lastLogin`), or
 * version 1 as written before those existed.
 */
export const exportedStateSchema = z.strictObject({
  version: z.union([z.literal(1), z.literal(2)]),
  agents: z.array(
    z.strictObject({
      userCode: z.string().min(1),
      current: mappingSchema,
      accepted: mappingSchema.nullable(),
      position: positionSchema.nullable(),
      derived: mappingSchema.optional(),
      lastLogout: positionSchema.optional(),
      lastLogin: positionSchema.optional(),
    }),
  ),
});

/** Formats zod issues as `path: message` lines (every issue, not only the first). */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return `${path === '' ? '(root)' : path}: ${issue.message}`;
  });
}
