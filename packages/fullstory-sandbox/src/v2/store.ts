/**
 * The sandbox's users and events. Users are upserted by uid (or by FullStory id): properties are
 * merged key by key (nested objects too), the last write wins, and a uid, once set, cannot change.
 */
import type { SandboxEvent, SandboxUser } from '../types.js';
import type { Problem } from './validate.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function merge(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) {
    const old = into[k];
    if (isObject(v) && isObject(old)) merge(old, v);
    else into[k] = isObject(v) ? structuredClone(v) : v;
  }
}

export class Store {
  private byId = new Map<string, SandboxUser>();
  private byUid = new Map<string, string>();
  private eventList: SandboxEvent[] = [];
  private eventTotal = 0;
  private nextUserNumber = 1;

  constructor(private readonly retainEvents: boolean, private readonly now: () => number) {}

  /** Creates or updates a user; returns the stored user or a problem (unknown id, uid change). */
  upsertUser(req: Record<string, unknown>, explicitId?: string): SandboxUser | Problem {
    const time = new Date(this.now()).toISOString();
    const uid = req.uid as string | undefined;
    let user: SandboxUser | undefined;
    if (explicitId !== undefined) {
      user = this.byId.get(explicitId);
      if (user === undefined) return { code: 'user_not_found', message: `no user with id ${explicitId}` };
      if (uid !== undefined && user.uid !== undefined && user.uid !== uid) {
        return { code: 'invalid_argument', message: 'the uid of an identified user cannot change' };
      }
      if (uid !== undefined && user.uid === undefined) {
        const other = this.byUid.get(uid);
        if (other !== undefined && other !== user.id) return { code: 'invalid_argument', message: 'uid already belongs to another user' };
      }
    } else if (uid !== undefined) {
      const id = this.byUid.get(uid);
      if (id !== undefined) user = this.byId.get(id);
    }
    if (user === undefined) {
      user = { id: String(1_000_000_000 + this.nextUserNumber++), properties: {}, created: time, updated: time };
      this.byId.set(user.id, user);
    }
    if (uid !== undefined && user.uid === undefined) {
      user.uid = uid;
      this.byUid.set(uid, user.id);
    }
    if (req.display_name !== undefined) user.display_name = req.display_name as string;
    if (req.email !== undefined) user.email = req.email as string;
    if (isObject(req.properties)) merge(user.properties, req.properties);
    if (isObject(req.schema)) user.schema = { ...(user.schema ?? {}), ...structuredClone(req.schema) };
    user.updated = time;
    return user;
  }

  getUser(id: string): SandboxUser | undefined {
    return this.byId.get(id);
  }

  findUserByUid(uid: string): SandboxUser | undefined {
    const id = this.byUid.get(uid);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /**
   * Stores an event. A `user.uid` not seen before creates that user (the event identifies them);
   * an unknown `user.id` is a problem.
   */
  addEvent(req: Record<string, unknown>, via: string): { userId?: string } | Problem {
    const user = req.user as { id?: string; uid?: string } | undefined;
    let userId: string | undefined;
    if (user?.id !== undefined) {
      if (!this.byId.has(user.id)) return { code: 'user_not_found', message: `no user with id ${user.id}` };
      userId = user.id;
    } else if (user?.uid !== undefined) {
      const found = this.findUserByUid(user.uid);
      userId = found === undefined ? (this.upsertUser({ uid: user.uid }) as SandboxUser).id : found.id;
    }
    this.eventTotal++;
    if (this.retainEvents) {
      this.eventList.push({ request: req, ...(userId === undefined ? {} : { user_id: userId }), via, received: new Date(this.now()).toISOString() });
    }
    return userId === undefined ? {} : { userId };
  }

  users(): SandboxUser[] {
    return [...this.byId.values()].map((u) => structuredClone(u));
  }

  events(): SandboxEvent[] {
    return this.eventList.slice();
  }

  userCount(): number {
    return this.byId.size;
  }

  eventCount(): number {
    return this.eventTotal;
  }

  reset(): void {
    this.byId = new Map();
    this.byUid = new Map();
    this.eventList = [];
    this.eventTotal = 0;
    this.nextUserNumber = 1;
  }
}
