/**
 * What contacts do and what Connect writes about them: arrivals with a day-shaped rate, queues,
 * routing to agents, ringing, talk, holds, transfers, callbacks and after-contact work, then the
 * CTR versions (with the injected faults) buffered into Firehose objects
 * (docs/historical-formats.md, the package DESIGN.md "The model").
 */
import { AgentBehaviour } from './agent-behaviour.js';
import { renderCtr } from './ctr-record.js';
import {
  type AgentRt,
  type Contact,
  DAY,
  HOUR,
  MINUTE,
  type Queue,
  SECOND,
  type Slot,
} from './entities.js';
import { isoSeconds, keyTime } from './render.js';
import { FIRST_NAMES } from './topology.js';
import type { Channel, CtrObjectOutput, InjectedMalformedRecord } from './types.js';

/** The contacts' behaviour, built on the agents' one. */
export abstract class ContactBehaviour extends AgentBehaviour {
  protected scheduleArrival(ch: Channel): void {
    const perAgentPerHour: Record<string, Partial<Record<Channel, number>>> = {
      Voice: { VOICE: 8 },
      Omni: { VOICE: 4, CHAT: 7 },
      BackOffice: { TASK: 3.5, CHAT: 4 },
    };
    let rate = 0;
    for (const a of this.agents) {
      if (a.loggedIn) rate += perAgentPerHour[a.def.profile.name]?.[ch] ?? 0;
    }
    const hour = (this.nowMs % DAY) / HOUR;
    const dayShape = 0.85 + 0.25 * Math.sin((Math.PI * (hour - 7)) / 9);
    rate *= this.load * dayShape;
    if (rate <= 0) {
      this.schedule(this.nowMs + MINUTE, () => this.scheduleArrival(ch));
      return;
    }
    const gap = Math.max(SECOND, Math.round(this.rng.exp(HOUR / rate) / SECOND) * SECOND);
    this.schedule(this.nowMs + gap, () => {
      this.arrive(ch);
      this.scheduleArrival(ch);
    });
  }

  protected newContact(
    ch: Channel,
    method: string,
    queue: Queue,
    previous: Contact | null,
  ): Contact {
    const id = this.idRng.uuid();
    this.counters.contacts++;
    return {
      id,
      channel: ch,
      method,
      initialId: previous === null ? null : (previous.initialId ?? previous.id),
      previousId: previous?.id ?? null,
      nextId: null,
      queue,
      initiatedAt: this.nowMs,
      enqueuedAt: null,
      dequeuedAt: null,
      connectedAt: null,
      disconnectedAt: null,
      disconnectReason: 'CUSTOMER_DISCONNECT',
      agent: null,
      attempts: 0,
      holds: [],
      acwStart: null,
      acwEnd: null,
      transferAt: null,
      transferTo: null,
      customer:
        ch === 'VOICE' ? `+44770090${String(this.rng.int(0, 9999)).padStart(4, '0')}` : null,
      system: ch === 'VOICE' ? (queue.name === 'Sales' ? '+442079460000' : '+442079460001') : null,
      phase: 'flow',
      attributes: {},
      versions: 0,
      objects: 0,
      lastUpdate: 0,
    };
  }

  protected arrive(ch: Channel): void {
    const [sales, support, chat, backOffice] = this.queues as [Queue, Queue, Queue, Queue];
    const queue =
      ch === 'VOICE'
        ? this.rng.chance(0.55)
          ? sales
          : support
        : ch === 'CHAT'
          ? chat
          : backOffice;
    const c = this.newContact(ch, ch === 'VOICE' ? 'INBOUND' : 'API', queue, null);
    if (ch === 'CHAT') c.attributes.customerName = this.rng.pick(FIRST_NAMES);
    if (ch === 'VOICE' && this.rng.chance(0.02)) {
      // hangs up in the contact flow, never queued
      c.queue = null;
      this.schedule(this.nowMs + this.rng.int(3, 30) * SECOND, () => {
        c.disconnectedAt = this.nowMs;
        this.finishContact(c);
      });
      return;
    }
    const flow = ch === 'VOICE' ? this.rng.int(5, 20) : this.rng.int(1, 6);
    this.schedule(this.nowMs + flow * SECOND, () => this.enqueue(c));
  }

  protected enqueue(c: Contact): void {
    c.enqueuedAt = this.nowMs;
    c.phase = 'queued';
    (this.waiting.get(c.queue as Queue) as Contact[]).push(c);
    if (c.method !== 'CALLBACK') {
      const patienceMean = c.channel === 'VOICE' ? 120 : c.channel === 'CHAT' ? 300 : 7200;
      const patience = this.rng.chance(0.08)
        ? this.rng.int(1, 8) * SECOND
        : this.rng.seconds(patienceMean, 1);
      if (c.channel === 'VOICE' && patience > 60 * SECOND && this.rng.chance(0.2)) {
        this.schedule(this.nowMs + 60 * SECOND, () => this.requestCallback(c));
      } else {
        this.schedule(this.nowMs + patience, () => this.abandon(c));
      }
    }
    this.dispatch();
  }

  protected removeWaiting(c: Contact): void {
    const list = this.waiting.get(c.queue as Queue) as Contact[];
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
  }

  protected abandon(c: Contact): void {
    if (c.phase !== 'queued') return;
    this.removeWaiting(c);
    c.dequeuedAt = this.nowMs;
    c.disconnectedAt = this.nowMs;
    this.finishContact(c);
  }

  protected requestCallback(c: Contact): void {
    if (c.phase !== 'queued') return;
    this.removeWaiting(c);
    c.dequeuedAt = this.nowMs;
    c.disconnectedAt = this.nowMs;
    c.disconnectReason = 'CONTACT_FLOW_DISCONNECT';
    const cb = this.newContact('VOICE', 'CALLBACK', c.queue as Queue, c);
    cb.customer = c.customer;
    c.nextId = cb.id;
    this.finishContact(c);
    this.enqueue(cb);
  }

  protected canTake(a: AgentRt, c: Contact): boolean {
    if (!a.loggedIn || a.status.type !== 'ROUTABLE' || a.pending !== null) return false;
    const p = a.def.profile;
    const max = p.concurrency[c.channel];
    if (max === undefined || !p.queues.includes(c.queue as Queue)) return false;
    if (a.slots.length === 0) return true;
    return (
      c.channel === 'CHAT' &&
      a.slots.length < max &&
      a.slots.every((s) => s.contact.channel === 'CHAT')
    );
  }

  protected dispatch(): void {
    const waiting: Contact[] = [];
    for (const list of this.waiting.values()) waiting.push(...list);
    if (waiting.length === 0) return;
    waiting.sort((x, y) => (x.enqueuedAt as number) - (y.enqueuedAt as number));
    for (const c of waiting) {
      let best: AgentRt | undefined;
      for (const a of this.agents) {
        if (!this.canTake(a, c)) continue;
        if (
          best === undefined ||
          a.slots.length < best.slots.length ||
          (a.slots.length === best.slots.length && a.idleSince < best.idleSince)
        ) {
          best = a;
        }
      }
      if (best !== undefined) this.offer(best, c);
    }
  }

  protected offer(a: AgentRt, c: Contact): void {
    this.removeWaiting(c);
    c.phase = 'offered';
    c.attempts++;
    this.account(a);
    const slot: Slot = {
      contact: c,
      state: c.method === 'CALLBACK' ? 'INCOMING' : 'CONNECTING',
      since: this.nowMs,
    };
    a.slots.push(slot);
    this.emit(a, 'STATE_CHANGE');
    const ring = (c.channel === 'VOICE' ? this.rng.int(3, 12) : this.rng.int(2, 6)) * SECOND;
    const fails = this.rng.chance(0.03);
    this.schedule(this.nowMs + ring, () => {
      if (fails) {
        slot.state = c.channel === 'VOICE' ? 'MISSED' : 'REJECTED';
        slot.since = this.nowMs;
        this.emit(a, 'STATE_CHANGE');
        const hold = (c.channel === 'VOICE' ? this.rng.int(10, 30) : this.rng.int(1, 3)) * SECOND;
        this.schedule(this.nowMs + hold, () => {
          this.account(a);
          a.slots.splice(a.slots.indexOf(slot), 1);
          c.phase = 'queued';
          (this.waiting.get(c.queue as Queue) as Contact[]).unshift(c);
          this.emit(a, 'STATE_CHANGE');
          this.afterSlotsChanged(a);
          this.dispatch();
        });
        return;
      }
      this.answer(a, slot);
    });
  }

  protected answer(a: AgentRt, slot: Slot): void {
    const c = slot.contact;
    c.phase = 'agent';
    c.agent = a;
    c.connectedAt = this.nowMs;
    c.dequeuedAt = this.nowMs;
    slot.state = 'CONNECTED';
    slot.since = this.nowMs;
    this.emit(a, 'STATE_CHANGE');
    const talk =
      c.channel === 'VOICE'
        ? this.rng.seconds(240, 0.6, 20)
        : c.channel === 'CHAT'
          ? this.rng.seconds(420, 0.5, 30)
          : this.rng.seconds(600, 0.5, 60);
    let totalHold = 0;
    if (c.channel === 'VOICE' && this.rng.chance(0.25)) {
      const holds = this.rng.chance(0.3) ? 2 : 1;
      for (let i = 0; i < holds; i++) {
        // a hold starts after a share of the talk time (and the holds before it)
        const holdStart =
          this.nowMs + Math.round((talk * (i + 1)) / (holds + 2) / SECOND) * SECOND + totalHold;
        const holdLen = this.rng.int(15, 90) * SECOND;
        totalHold += holdLen;
        this.schedule(holdStart, () => {
          slot.state = 'CONNECTED_ONHOLD';
          slot.since = this.nowMs;
          this.emit(a, 'STATE_CHANGE');
        });
        this.schedule(holdStart + holdLen, () => {
          c.holds.push(holdLen);
          slot.state = 'CONNECTED';
          slot.since = this.nowMs;
          this.emit(a, 'STATE_CHANGE');
        });
      }
    }
    const endAt = this.nowMs + talk + totalHold;
    const transfer = c.channel === 'VOICE' ? this.rng.next() : 1;
    this.schedule(endAt, () => this.endTalk(a, slot, transfer));
  }

  protected endTalk(a: AgentRt, slot: Slot, transfer: number): void {
    const c = slot.contact;
    c.disconnectedAt = this.nowMs;
    c.disconnectReason = this.rng.chance(0.6) ? 'CUSTOMER_DISCONNECT' : 'AGENT_DISCONNECT';
    if (transfer < 0.05) {
      c.transferAt = this.nowMs;
      c.transferTo = '+442079461111';
      c.disconnectReason = 'THIRD_PARTY_DISCONNECT';
    } else if (transfer < 0.1) {
      const target = this.queues.find(
        (q) => q.channels.includes('VOICE') && q !== c.queue,
      ) as Queue;
      const next = this.newContact('VOICE', 'TRANSFER', target, c);
      next.customer = c.customer;
      c.nextId = next.id;
      c.disconnectReason = 'CONTACT_FLOW_DISCONNECT';
      this.enqueue(next);
    }
    this.account(a);
    slot.state = 'ENDED';
    slot.since = this.nowMs;
    c.acwStart = this.nowMs;
    this.emit(a, 'STATE_CHANGE');
    const acw =
      c.channel === 'VOICE'
        ? this.rng.seconds(30, 0.5, 5)
        : c.channel === 'CHAT'
          ? this.rng.seconds(15, 0.5, 3)
          : this.rng.seconds(45, 0.5, 5);
    this.schedule(this.nowMs + acw, () => {
      this.account(a);
      c.acwEnd = this.nowMs;
      a.slots.splice(a.slots.indexOf(slot), 1);
      this.emit(a, 'STATE_CHANGE');
      this.finishContact(c);
      this.afterSlotsChanged(a);
      this.dispatch();
    });
  }

  protected finishContact(c: Contact): void {
    c.phase = 'done';
    this.finished.set(c.id, c);
    const delay = this.rng.int(10, 90) * SECOND;
    this.schedule(this.nowMs + delay, () => {
      c.lastUpdate = this.nowMs;
      this.writeCtr(c, false);
      if (this.rng.chance(0.1)) {
        const late = this.faults.lateUpdate > 0 && this.rng.chance(this.faults.lateUpdate);
        const after = late ? this.rng.int(60, 180) * MINUTE : this.rng.int(2, 30) * MINUTE;
        this.pendingUpdates.add(c);
        this.schedule(this.nowMs + after, () => {
          if (!this.pendingUpdates.delete(c)) return;
          c.lastUpdate = this.nowMs;
          this.writeCtr(c, true);
        });
      }
    });
  }

  protected writeCtr(c: Contact, update: boolean): void {
    if (update) {
      c.attributes.survey = String(this.rng.int(1, 5));
    }
    c.versions++;
    this.counters.ctrRecords++;
    const text = JSON.stringify(renderCtr(c, this.accountId, this.instanceArn));
    this.addToBuffer(text, c.id);
    if (this.faults.duplicate > 0 && this.rng.chance(this.faults.duplicate)) {
      this.counters.ctrRecords++;
      this.addToBuffer(text, c.id);
    }
    if (this.faults.malformed > 0 && this.rng.chance(this.faults.malformed)) {
      const variant = this.rng.int(0, 2);
      const bad =
        variant === 0
          ? `{"NotACtr":true,"Note":"simulated malformed record ${this.idRng.uuid()}"}`
          : variant === 1
            ? `{"ContactId":"${this.idRng.uuid()}","Channel":,"Agent":{"ARN":}}`
            : `{"ContactId":"${this.idRng.uuid()}","InitiationTimestamp":"not a time"}`;
      this.addToBuffer(bad, null);
    }
  }

  protected addToBuffer(text: string, contactId: string | null): void {
    if (this.buffer === null) {
      this.buffer = { at: this.nowMs, parts: [] };
      const gen = ++this.bufferGen;
      this.schedule(this.nowMs + this.firehose.bufferSeconds * SECOND, () => {
        if (this.bufferGen === gen) this.flush();
      });
    }
    this.buffer.parts.push({ text, contactId });
    this.bufferBytes += Buffer.byteLength(text) + 1;
    if (this.bufferBytes >= this.firehose.bufferBytes) this.flush();
  }

  protected flush(): void {
    const buf = this.buffer;
    if (buf === null) return;
    this.buffer = null;
    this.bufferBytes = 0;
    this.bufferGen++;
    const fh = this.firehose;
    const iso = isoSeconds(buf.at);
    const folder = `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}/`;
    const key = `${fh.prefix}${folder}${fh.streamName}-1-${keyTime(buf.at)}-${this.idRng.uuid()}${fh.gzip ? '.gz' : ''}`;
    const sep = fh.delimiter === 'newline' ? '\n' : '';
    const chunks: Buffer[] = [];
    const malformed: InjectedMalformedRecord[] = [];
    const contactIds: string[] = [];
    let offset = 0;
    for (const part of buf.parts) {
      const bytes = Buffer.from(part.text + sep);
      if (part.contactId === null) {
        const m = { key, offset, length: Buffer.byteLength(part.text), text: part.text };
        malformed.push(m);
        this.malformedCtrs.push(m);
      } else {
        contactIds.push(part.contactId);
      }
      chunks.push(bytes);
      offset += bytes.length;
    }
    for (const id of new Set(contactIds)) {
      const c = this.finished.get(id);
      if (c !== undefined) c.objects++;
    }
    this.counters.objects++;
    const output: CtrObjectOutput = {
      kind: 'ctr-object',
      at: this.nowMs,
      key,
      body: Buffer.concat(chunks),
      records: contactIds.length,
      contactIds,
      malformed,
      gzip: fh.gzip,
    };
    this.push(output);
  }
}
