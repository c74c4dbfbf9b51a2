import { type ConfigProblem, configProblemsFrom } from '@connect-wfm/core';
import { AgentEntry, byUserCode, positionFromJson, positionToJson } from './agent-entry.js';
import { RtaStateImportError } from './errors.js';
import { exportedStateSchema } from './schema.js';
import type { ExportedAgentState, ExportedCollapserState, RtaState } from './types.js';

/** The persisted state file: what `exportState` writes and `importState` reads (version 2). */

/** The state to persist for these agents, sorted by `userCode`. */
export function exportAgents(entries: Iterable<AgentEntry>): ExportedCollapserState {
  const agents: ExportedAgentState[] = [];
  for (const entry of entries) {
    agents.push({
      userCode: entry.userCode,
      current: { stateCode: entry.stateCode, stateDescription: entry.stateDescription },
      accepted:
        entry.acceptedCode === undefined || entry.acceptedDescription === undefined
          ? null
          : { stateCode: entry.acceptedCode, stateDescription: entry.acceptedDescription },
      position: entry.hasPosition ? positionToJson(entry) : null,
      ...(entry.derivedCode !== entry.stateCode ||
      entry.derivedDescription !== entry.stateDescription
        ? {
            derived: {
              stateCode: entry.derivedCode,
              stateDescription: entry.derivedDescription,
            },
          }
        : {}),
      ...(entry.logout === undefined ? {} : { lastLogout: positionToJson(entry.logout) }),
      ...(entry.login === undefined ? {} : { lastLogin: positionToJson(entry.login) }),
    });
  }
  agents.sort(byUserCode);
  return { version: 2, agents };
}

/** Marks, in an exported state, the agents of `states` as accepted with those states. */
export function markDeliveredInState(
  state: ExportedCollapserState,
  states: readonly RtaState[],
): void {
  if (states.length === 0) return;
  const delivered = new Map<string, RtaState>();
  for (const st of states) delivered.set(st.userCode, st);
  for (const agent of state.agents) {
    const st = delivered.get(agent.userCode);
    if (st !== undefined) {
      agent.accepted = { stateCode: st.stateCode, stateDescription: st.stateDescription };
    }
  }
}

/**
 * Validates a state written by `exportState` and rebuilds its agents; the current state of each
 * follows from the rest under the importing collapser's options (a file written with other
 * options, or by hand, may disagree).
 *
 * @throws RtaStateImportError listing every problem.
 */
export function restoreAgents(
  state: unknown,
  stayLoggedOutUntilLogin: boolean,
  loggedOut: { readonly stateCode: string; readonly stateDescription: string },
): AgentEntry[] {
  const parsed = exportedStateSchema.safeParse(state);
  if (!parsed.success) throw new RtaStateImportError(configProblemsFrom(parsed.error));
  const seen = new Set<string>();
  const duplicates: ConfigProblem[] = [];
  for (const agent of parsed.data.agents) {
    if (seen.has(agent.userCode)) {
      duplicates.push({ path: 'agents', message: `duplicate userCode ${agent.userCode}` });
    }
    seen.add(agent.userCode);
  }
  if (duplicates.length > 0) throw new RtaStateImportError(duplicates);

  const entries: AgentEntry[] = [];
  for (const agent of parsed.data.agents) {
    const entry = new AgentEntry(
      agent.userCode,
      agent.current.stateCode,
      agent.current.stateDescription,
    );
    if (agent.accepted !== null) {
      entry.acceptedCode = agent.accepted.stateCode;
      entry.acceptedDescription = agent.accepted.stateDescription;
    }
    if (agent.position !== null) {
      entry.hasPosition = true;
      entry.timeMs = Date.parse(agent.position.eventTimestamp);
      entry.shardId = agent.position.shardId;
      entry.sequenceNumber = agent.position.sequenceNumber;
    }
    if (agent.derived !== undefined) {
      entry.derivedCode = agent.derived.stateCode;
      entry.derivedDescription = agent.derived.stateDescription;
    }
    if (stayLoggedOutUntilLogin) {
      if (agent.lastLogout !== undefined) entry.logout = positionFromJson(agent.lastLogout);
      if (agent.lastLogin !== undefined) entry.login = positionFromJson(agent.lastLogin);
    }
    const out = entry.awaitingLogin();
    entry.stateCode = out ? loggedOut.stateCode : entry.derivedCode;
    entry.stateDescription = out ? loggedOut.stateDescription : entry.derivedDescription;
    entries.push(entry);
  }
  return entries;
}
