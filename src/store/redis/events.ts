import { Cluster } from "ioredis";
import { deliver } from "../memory/events.js";
import type { InvalidationBus, InvalidationEvent, InvalidationListener } from "../ports.js";
import type { RedisLike } from "./connect.js";

export interface RedisInvalidationBus extends InvalidationBus {
  /** Closes the subscriber connection, if one was opened. */
  close(): Promise<void>;
}

/** Kinds this version understands; an unknown kind (a newer replica's) is ignored. */
const EVENT_KINDS: ReadonlySet<string> = new Set([
  "token",
  "agent",
  "operator",
  "agent_key",
  "signing_keys",
  "grant",
  "all",
] satisfies InvalidationEvent["kind"][]);

/**
 * Invalidations over Redis pub/sub. Publishing delivers to this process's listeners first,
 * then PUBLISHes (the echo this process receives back is harmless: dropping a cache entry
 * twice is idempotent). A subscribed connection can run nothing else, so the first
 * `subscribe` opens a dedicated one (`duplicate()`: same server, credentials, TLS).
 *
 * Pub/sub is at-most-once: messages sent while the subscriber was disconnected are lost.
 * After every reconnect the listeners get `{ kind: "all" }` and drop everything; in-process
 * caches also bound their own lifetime, so a message lost otherwise costs at most that bound.
 */
export function createRedisInvalidationBus(
  redis: RedisLike,
  channel: string,
): RedisInvalidationBus {
  const listeners = new Set<InvalidationListener>();
  let subscriber: RedisLike | undefined;
  let subscribed: Promise<void> | undefined;

  const open = (): Promise<void> => {
    // Auto-pipelining (connect.ts) stays off here: with it, ioredis can queue a connection
    // set-up command (SELECT) behind SUBSCRIBE, which a subscribed connection refuses. The
    // offline queue stays on: SUBSCRIBE is sent before this new connection is up.
    const plain = { enableAutoPipelining: false, enableOfflineQueue: true } as const;
    const connection: RedisLike =
      redis instanceof Cluster ? redis.duplicate([], plain) : redis.duplicate(plain);
    subscriber = connection;
    connection.on("error", () => {
      // Reported by the main connection's handler; a subscriber error only means reconnect.
    });
    connection.on("message", (from: string, message: string) => {
      if (from !== channel) return;
      const event = parseEvent(message);
      if (event) deliver(listeners, event);
    });
    let ready = false;
    connection.on("ready", () => {
      // ioredis re-subscribes on reconnect; whatever was published meanwhile is lost.
      if (ready) deliver(listeners, { kind: "all" });
      ready = true;
    });
    return connection.subscribe(channel).then(() => undefined);
  };

  return {
    async publish(event) {
      deliver(listeners, event);
      await redis.publish(channel, JSON.stringify(event));
    },
    async subscribe(listener) {
      subscribed ??= open();
      await subscribed;
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      listeners.clear();
      const connection = subscriber;
      subscriber = undefined;
      if (!connection) return;
      await subscribed?.catch(() => undefined);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

function parseEvent(message: string): InvalidationEvent | undefined {
  try {
    const event: unknown = JSON.parse(message);
    if (typeof event !== "object" || event === null) return undefined;
    const kind = (event as { kind?: unknown }).kind;
    return typeof kind === "string" && EVENT_KINDS.has(kind)
      ? (event as InvalidationEvent)
      : undefined;
  } catch {
    return undefined;
  }
}
