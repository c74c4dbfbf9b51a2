/**
 * zod schemas of the records Connect writes, as documented in the package DESIGN.md
 * (agent event stream and contact trace records). The simulator's tests check every record it
 * writes against them; integrators can check their own records too.
 */
import { z } from 'zod';

const isoMillis = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
const isoSecondsSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
const arn = z.string().regex(/^arn:aws:connect:[a-z0-9-]+:\d{12}:instance\/[0-9a-f-]{36}(\/.+)?$/);
const uuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
const channel = z.enum(['VOICE', 'CHAT', 'TASK', 'EMAIL']);
const seconds = z.number().int().min(0);

const agentStatus = z.object({
  ARN: arn,
  Name: z.string().min(1),
  StartTimestamp: isoMillis,
  Type: z.enum(['ROUTABLE', 'CUSTOM', 'OFFLINE']).optional(),
});

const queueRef = z.object({ ARN: arn, Name: z.string(), Channels: z.array(channel).optional() });

const snapshot = z.object({
  AgentStatus: agentStatus,
  NextAgentStatus: agentStatus.nullable().optional(),
  Configuration: z.object({
    Username: z.string().min(1),
    FirstName: z.string(),
    LastName: z.string(),
    RoutingProfile: z.object({
      ARN: arn,
      Name: z.string(),
      Concurrency: z.array(
        z.object({
          Channel: channel,
          AvailableSlots: z.number().int().min(0),
          MaximumSlots: z.number().int().min(1),
        }),
      ),
      DefaultOutboundQueue: queueRef,
      InboundQueues: z.array(queueRef),
    }),
    AgentHierarchyGroups: z
      .record(z.string(), z.object({ ARN: arn, GroupName: z.string() }))
      .nullable(),
  }),
  Contacts: z.array(
    z.object({
      ContactId: uuid,
      InitialContactId: uuid.nullable(),
      Channel: channel,
      InitiationMethod: z.enum([
        'INBOUND',
        'OUTBOUND',
        'TRANSFER',
        'QUEUE_TRANSFER',
        'CALLBACK',
        'API',
        'MONITOR',
        'DISCONNECT',
      ]),
      State: z.enum([
        'INCOMING',
        'PENDING',
        'CONNECTING',
        'CONNECTED',
        'CONNECTED_ONHOLD',
        'MISSED',
        'ERROR',
        'ENDED',
        'REJECTED',
      ]),
      StateStartTimestamp: isoMillis,
      ConnectedToAgentTimestamp: isoMillis.nullable(),
      QueueTimestamp: isoMillis.nullable(),
      Queue: z.object({ ARN: arn, Name: z.string() }).nullable(),
    }),
  ),
});

/**
 * One agent event record of the Connect agent event stream.
 *
 * @example
 * agentEventSchema.parse(JSON.parse(record.data));
 */
export const agentEventSchema = z.object({
  AWSAccountId: z.string().regex(/^\d{12}$/),
  AgentARN: arn,
  InstanceARN: arn,
  EventId: uuid,
  EventTimestamp: isoMillis,
  EventType: z.enum(['LOGIN', 'LOGOUT', 'STATE_CHANGE', 'HEART_BEAT']),
  Version: z.string(),
  CurrentAgentSnapshot: snapshot,
  PreviousAgentSnapshot: snapshot.nullable(),
});

const endpoint = z.object({ Address: z.string(), Type: z.string() }).nullable();

/**
 * One contact trace record as Firehose delivers it.
 *
 * @example
 * contactTraceRecordSchema.parse(ctr);
 */
export const contactTraceRecordSchema = z.object({
  AWSAccountId: z.string().regex(/^\d{12}$/),
  AWSContactTraceRecordFormatVersion: z.string(),
  InstanceARN: arn,
  ContactId: uuid,
  InitialContactId: uuid.nullable(),
  PreviousContactId: uuid.nullable(),
  NextContactId: uuid.nullable(),
  Channel: channel,
  InitiationMethod: z.string(),
  InitiationTimestamp: isoSecondsSchema,
  ConnectedToSystemTimestamp: isoSecondsSchema.nullable(),
  DisconnectTimestamp: isoSecondsSchema,
  DisconnectReason: z.string().nullable(),
  LastUpdateTimestamp: isoSecondsSchema,
  AgentConnectionAttempts: z.number().int().min(0),
  TransferCompletedTimestamp: isoSecondsSchema.nullable(),
  TransferredToEndpoint: endpoint,
  SystemEndpoint: endpoint,
  CustomerEndpoint: endpoint,
  Attributes: z.record(z.string(), z.string()),
  Agent: z
    .object({
      ARN: arn,
      Username: z.string().min(1),
      ConnectedToAgentTimestamp: isoSecondsSchema,
      AgentInteractionDuration: seconds,
      CustomerHoldDuration: seconds,
      NumberOfHolds: seconds,
      LongestHoldDuration: seconds,
      AfterContactWorkStartTimestamp: isoSecondsSchema.nullable(),
      AfterContactWorkEndTimestamp: isoSecondsSchema.nullable(),
      AfterContactWorkDuration: seconds,
      RoutingProfile: z.object({ ARN: arn, Name: z.string() }),
      HierarchyGroups: z
        .record(z.string(), z.object({ ARN: arn, GroupName: z.string() }))
        .nullable(),
    })
    .nullable(),
  Queue: z
    .object({
      ARN: arn,
      Name: z.string(),
      EnqueueTimestamp: isoSecondsSchema,
      DequeueTimestamp: isoSecondsSchema.nullable(),
      Duration: seconds,
    })
    .nullable(),
});
