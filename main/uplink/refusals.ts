/**
 * When a reading the broker refuses every time (a `permanent` refusal: errors.ts REASON_CODES) is
 * set aside (drop reason `refused`) so that it stops blocking the queue.
 */
import { MAX_REFUSALS, MAX_TRACKED_REFUSALS } from '../shared/config/cloud.js';

/**
 * - `retry`: return the readings to the buffer; suspects go out alone next time.
 * - `set-aside`: drop the reading with a `refused` drop record.
 * - `hold`: keep it leased and unsent until the broker accepts another readings message, which
 *   shows that the refusal is about this reading and not about everything.
 */
export type RefusalVerdict = 'retry' | 'set-aside' | 'hold';

/** Why a held reading waits: too large for the broker's announced limit, or refused alone too often. */
export type HoldReason = 'oversize' | 'refused';

interface Suspect {
  refusals: number;
  /** `accepted` when this reading was first refused, and when it was last refused. */
  acceptedAtFirst: number;
  acceptedAtLast: number;
}

/**
 * Counts permanent refusals per reading (by buffer id). A refused message of several readings
 * makes each a suspect, sent alone from then on, so one bad reading cannot take its batch with it.
 * A suspect refused alone MAX_REFUSALS times is set aside, but only if the broker accepted other
 * readings between its first refusal and its last one: a broker that refuses everything must not
 * empty the buffer. Without that evidence the reading waits, unsent, until the broker accepts
 * something else, and is then tried once more.
 */
export class RefusalTracker {
  private readonly suspects = new Map<number, Suspect>();
  private readonly held = new Map<number, HoldReason>();
  /** Readings messages the broker accepted. */
  private accepted = 0;

  constructor(private readonly limit = MAX_REFUSALS) {}

  get heldCount(): number {
    return this.held.size;
  }

  isSuspect(id: number): boolean {
    return this.suspects.has(id);
  }

  /** Refused alone MAX_REFUSALS times and nothing accepted since its last refusal: wait rather than send it again. */
  mustWait(id: number): boolean {
    const suspect = this.suspects.get(id);
    return suspect !== undefined && suspect.refusals >= this.limit && suspect.acceptedAtLast === this.accepted;
  }

  /**
   * The broker accepted a message of these readings. Held readings too large for the broker are
   * now proven unsendable (set them aside); held refused ones are to be tried once more (retry).
   */
  acceptedMessage(ids: readonly number[]): { setAside: number[]; retry: number[] } {
    this.accepted++;
    for (const id of ids) this.suspects.delete(id);
    const released = { setAside: [] as number[], retry: [] as number[] };
    for (const [id, reason] of this.held) {
      if (reason === 'oversize') {
        released.setAside.push(id);
        this.suspects.delete(id);
      } else {
        released.retry.push(id);
      }
    }
    this.held.clear();
    return released;
  }

  /** The broker refused a message of these readings for a permanent reason. */
  refused(ids: readonly number[]): RefusalVerdict {
    if (ids.length !== 1) {
      for (const id of ids) this.track(id).acceptedAtLast = this.accepted;
      return 'retry';
    }
    const id = ids[0] as number;
    const suspect = this.track(id);
    suspect.refusals++;
    suspect.acceptedAtLast = this.accepted;
    if (suspect.refusals < this.limit) return 'retry';
    if (this.accepted > suspect.acceptedAtFirst) {
      this.forget([id]);
      return 'set-aside';
    }
    this.held.set(id, 'refused');
    return 'hold';
  }

  /**
   * A reading not to send now: one that `mustWait`, or one that alone exceeds the broker's
   * Maximum Packet Size (set aside once the broker took other readings since it was first seen).
   */
  withhold(id: number, reason: HoldReason): Exclude<RefusalVerdict, 'retry'> {
    const suspect = this.track(id);
    if (reason === 'oversize' && this.accepted > suspect.acceptedAtFirst) {
      this.forget([id]);
      return 'set-aside';
    }
    this.held.set(id, reason);
    return 'hold';
  }

  /**
   * Too many readings wait while the broker accepts none: it refuses everything, so their refusals
   * prove nothing. Forgets them and their counts; returns them (to go back to the buffer).
   */
  giveUpHeld(): number[] {
    const held = [...this.held.keys()];
    this.forget(held);
    return held;
  }

  /** The connection ended: returns the held readings (to go back to the buffer); their counts stay. */
  connectionEnded(): number[] {
    const held = [...this.held.keys()];
    this.held.clear();
    return held;
  }

  private forget(ids: readonly number[]): void {
    for (const id of ids) {
      this.suspects.delete(id);
      this.held.delete(id);
    }
  }

  private track(id: number): Suspect {
    let suspect = this.suspects.get(id);
    if (!suspect) {
      suspect = { refusals: 0, acceptedAtFirst: this.accepted, acceptedAtLast: this.accepted };
      this.suspects.set(id, suspect);
      if (this.suspects.size > MAX_TRACKED_REFUSALS) {
        const oldest = this.suspects.keys().next().value as number;
        if (!this.held.has(oldest)) this.suspects.delete(oldest);
      }
    }
    return suspect;
  }
}
