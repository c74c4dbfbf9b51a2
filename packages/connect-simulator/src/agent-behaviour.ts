/**
 * What agents do and what Connect writes about it: shifts, breaks and logouts, the agent events
 * (with the injected stream faults) and heart beats, and the agent performance report
 * (docs/rta-state-rules.md, the package DESIGN.md "The model").
 */
import { deriveTruth, renderSnapshot, snapshotOf } from './agent-snapshot.js';
import {
  type AgentRt,
  DAY,
  HOUR,
  MINUTE,
  REPORT_DELAY,
  REPORT_INTERVAL,
  SECOND,
  type Snapshot,
  type Status,
} from './entities.js';
import { csvJoin, isoMs, isoSeconds, keyTime } from './render.js';
import { SimulationCore } from './simulation-core.js';
import type { AgentEventOutput } from './types.js';

/** The agents' behaviour; contact routing is left to the class built on this one. */
export abstract class AgentBehaviour extends SimulationCore {
  /** Offers waiting contacts to agents who can take them. */
  protected abstract dispatch(): void;

  protected planShifts(a: AgentRt, day: number): void {
    const shiftStart = day + a.def.shiftOffset;
    const shiftEnd = shiftStart + 8 * HOUR;
    if (shiftEnd <= this.start) {
      this.planShifts(a, day + DAY);
      return;
    }
    const loginAt = Math.max(shiftStart, this.start + (a.def.index % 60) * SECOND);
    this.schedule(loginAt, () => this.login(a));
    const breaks: Array<[number, Status, number]> = [
      [2 * HOUR, this.statuses.break, 15],
      [4 * HOUR, this.statuses.lunch, 30],
      [6 * HOUR, this.statuses.break, 15],
    ];
    if (this.rng.chance(0.3)) {
      breaks.push([
        HOUR + this.rng.int(0, 5) * 30 * MINUTE + 10 * MINUTE,
        this.rng.chance(0.5) ? this.statuses.training : this.statuses.meeting,
        20,
      ]);
    }
    for (const [offset, status, minutes] of breaks) {
      const at = shiftStart + offset + this.rng.int(0, 300) * SECOND;
      if (at > loginAt) this.schedule(at, () => this.requestStatus(a, status, minutes));
    }
    this.schedule(shiftEnd + this.rng.int(0, 600) * SECOND, () => this.requestLogout(a));
  }

  protected login(a: AgentRt): void {
    if (a.loggedIn) return;
    this.account(a);
    a.loggedIn = true;
    a.status = this.statuses.available;
    a.statusSince = this.nowMs;
    a.idleSince = this.nowMs;
    a.pending = null;
    a.loggedOutAt = null;
    this.emit(a, 'LOGIN');
    this.dispatch();
  }

  protected requestStatus(a: AgentRt, status: Status, minutes: number): void {
    if (!a.loggedIn || a.pending?.kind === 'logout') return;
    if (a.slots.length === 0) {
      this.setStatus(a, status, minutes);
      return;
    }
    a.pending = { kind: 'status', status, minutes };
    this.emit(a, 'STATE_CHANGE');
  }

  protected setStatus(a: AgentRt, status: Status, minutes: number): void {
    this.account(a);
    a.pending = null;
    a.status = status;
    a.statusSince = this.nowMs;
    this.emit(a, 'STATE_CHANGE');
    const until = this.nowMs + minutes * MINUTE + this.rng.int(-60, 120) * SECOND;
    this.schedule(until, () => {
      if (!a.loggedIn || a.status !== status) return;
      this.account(a);
      a.status = this.statuses.available;
      a.statusSince = this.nowMs;
      a.idleSince = this.nowMs;
      this.emit(a, 'STATE_CHANGE');
      if (a.pending?.kind === 'logout') this.logout(a);
      else this.dispatch();
    });
  }

  protected requestLogout(a: AgentRt): void {
    if (!a.loggedIn) return;
    if (a.slots.length === 0) {
      this.logout(a);
      return;
    }
    a.pending = { kind: 'logout' };
  }

  protected logout(a: AgentRt): void {
    this.account(a);
    a.beforeLogout = a.lastSnapshot;
    a.loggedIn = false;
    a.pending = null;
    a.status = this.statuses.offline;
    a.statusSince = this.nowMs;
    a.loggedOutAt = this.nowMs;
    this.emit(a, 'LOGOUT');
    this.planShifts(a, Math.floor(this.nowMs / DAY) * DAY + DAY);
  }

  protected afterSlotsChanged(a: AgentRt): void {
    if (a.slots.length > 0) return;
    a.idleSince = this.nowMs;
    const pending = a.pending;
    if (pending?.kind === 'logout') this.logout(a);
    else if (pending?.kind === 'status') this.setStatus(a, pending.status, pending.minutes);
  }

  protected emit(a: AgentRt, type: 'LOGIN' | 'LOGOUT' | 'STATE_CHANGE' | 'HEART_BEAT'): void {
    const ts = Math.max(this.nowMs + a.def.msOffset, a.lastEventTs + 1);
    a.lastEventTs = ts;
    const eventId = this.idRng.uuid();
    let current: Snapshot;
    let previous: Snapshot | null;
    if (type === 'HEART_BEAT' && !a.loggedIn && a.beforeLogout !== null) {
      // Connect goes on sending heart beats after a logout with the last status before it
      current = a.beforeLogout;
      previous = a.beforeLogout;
    } else {
      current = snapshotOf(a);
      previous = a.lastSnapshot;
      a.lastSnapshot = current;
    }
    const record = {
      AWSAccountId: this.accountId,
      AgentARN: a.def.arn,
      CurrentAgentSnapshot: renderSnapshot(a, current, this.nowMs),
      EventId: eventId,
      EventTimestamp: isoMs(ts),
      EventType: type,
      InstanceARN: this.instanceArn,
      PreviousAgentSnapshot:
        previous === null
          ? renderSnapshot(
              a,
              { status: this.statuses.offline, statusSince: this.start, next: null, slots: [] },
              this.nowMs,
            )
          : renderSnapshot(a, previous, this.nowMs),
      Version: '2019-05-25',
    };
    const output: AgentEventOutput = {
      kind: 'agent-event',
      at: this.nowMs,
      partitionKey: a.def.arn,
      username: a.def.username,
      eventId,
      eventType: type,
      data: JSON.stringify(record),
    };
    this.counters.agentEvents++;
    const t = deriveTruth(a);
    if (t.code !== a.truth.stateCode || t.description !== a.truth.stateDescription) {
      a.truth = {
        stateCode: t.code,
        stateDescription: t.description,
        loggedOut: t.loggedOut,
        since: ts,
        eventId,
      };
      a.timeline.push(a.truth);
    }
    this.writeAgentEvent(a, output);
    this.scheduleHeartbeat(a);
  }

  protected writeAgentEvent(a: AgentRt, output: AgentEventOutput): void {
    const f = this.faults;
    const held = this.heldForReorder.get(a.def.username);
    if (held !== undefined) {
      // the held event goes after this one: reordered in the stream
      this.heldForReorder.delete(a.def.username);
      this.push(output);
      this.push({ ...held, fault: 'reordered' });
    } else if (
      f.reorder > 0 &&
      output.eventType !== 'LOGIN' &&
      output.eventType !== 'LOGOUT' &&
      this.rng.chance(f.reorder)
    ) {
      this.heldForReorder.set(a.def.username, output);
    } else {
      this.push(output);
    }
    if (f.duplicate > 0 && this.rng.chance(f.duplicate))
      this.push({ ...output, fault: 'duplicate' });
    if (f.malformed > 0 && this.rng.chance(f.malformed)) {
      const bad: AgentEventOutput = {
        kind: 'agent-event',
        at: this.nowMs,
        partitionKey: a.def.arn,
        username: a.def.username,
        eventId: null,
        eventType: null,
        data: this.rng.chance(0.5)
          ? `{"EventType":"STATE_CHANGE","AgentARN":"${a.def.arn}","EventTimestamp":`
          : JSON.stringify({
              AgentARN: a.def.arn,
              EventId: this.idRng.uuid(),
              EventType: 'STATE_CHANGE',
              EventTimestamp: isoMs(this.nowMs),
              CurrentAgentSnapshot: { AgentStatus: null, Configuration: { Username: null } },
            }),
        fault: 'malformed',
      };
      this.malformedEvents.push(bad);
      this.push(bad);
    }
  }

  protected scheduleHeartbeat(a: AgentRt): void {
    const gen = ++a.heartbeatGen;
    const at = this.nowMs + this.heartbeatMs;
    if (!a.loggedIn && (a.loggedOutAt === null || at > a.loggedOutAt + this.heartbeatAfterLogoutMs))
      return;
    this.schedule(at, () => {
      if (a.heartbeatGen !== gen) return;
      this.emit(a, 'HEART_BEAT');
    });
  }

  // ---------------------------------------------------------------- agent performance accounting

  /** Adds the time since the agent's last accounting to its report intervals. */
  protected account(a: AgentRt, upTo = this.nowMs): void {
    let from = a.accSince;
    if (upTo <= from) return;
    a.accSince = upTo;
    if (!a.loggedIn) return;
    const npt = a.status.type === 'CUSTOM';
    const idle = a.status.type === 'ROUTABLE' && a.slots.length === 0;
    while (from < upTo) {
      const iv = Math.floor(from / REPORT_INTERVAL) * REPORT_INTERVAL;
      const end = Math.min(upTo, iv + REPORT_INTERVAL);
      const key = `${iv}|${a.def.username}`;
      const acc = this.perf.get(key) ?? { online: 0, npt: 0, idle: 0 };
      const d = end - from;
      acc.online += d;
      if (npt) acc.npt += d;
      if (idle) acc.idle += d;
      this.perf.set(key, acc);
      from = end;
    }
  }

  protected scheduleIntervalEnd(end: number): void {
    this.schedule(end, () => {
      for (const a of this.agents) this.account(a, end);
      this.schedule(end + REPORT_DELAY, () => this.writeReport(end - REPORT_INTERVAL));
      this.scheduleIntervalEnd(end + REPORT_INTERVAL);
    });
  }

  protected writeReport(iv: number): void {
    const lines = ['Agent,Interval,Agent idle time,Non-Productive Time,Online time'];
    let rows = 0;
    for (const a of this.agents) {
      const key = `${iv}|${a.def.username}`;
      const acc = this.perf.get(key);
      if (acc === undefined || acc.online === 0) continue;
      this.perf.delete(key);
      const online = Math.round(acc.online / SECOND);
      const npt = Math.round(acc.npt / SECOND);
      const idle = Math.round(acc.idle / SECOND);
      lines.push(
        csvJoin([
          a.def.username,
          isoSeconds(iv),
          idle === 0 ? '-' : String(idle),
          npt === 0 ? '-' : String(npt),
          String(online),
        ]),
      );
      this.perfRows.push({
        interval_start: isoSeconds(iv),
        agent_username: a.def.username,
        onlineSeconds: online,
        nonProductiveSeconds: npt,
        idleSeconds: idle,
      });
      rows++;
    }
    this.counters.reports++;
    this.push({
      kind: 'report',
      at: this.nowMs,
      key: `${this.reportPrefix}${this.reportName}-${keyTime(this.nowMs)}Z.csv`,
      body: `${lines.join('\n')}\n`,
      intervalStart: iv,
      rows,
    });
  }
}
