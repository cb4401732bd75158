import { createHash } from "node:crypto";
import type { RedisLike } from "./connect.js";

/** A Lua script on the connection: run with its keys (`numberOfKeys` first) and arguments. */
export interface LuaScript {
  run(numberOfKeys: number, ...keysThenArgs: (string | number)[]): Promise<unknown>;
}

/**
 * EVALSHA by the script's SHA-1, and EVAL (which also caches it on that server) only when the
 * server answers NOSCRIPT: after a restart, a failover or a SCRIPT FLUSH, and on each Cluster
 * node the first time. A Cluster client routes EVALSHA by its first key, so every key of one
 * call must share a slot (the hash tags of keys.ts).
 *
 * Not ioredis's defineCommand: it copies every defined script onto each pipeline it creates,
 * and with auto-pipelining (connect.ts) every batch of commands is one: with Gatehouse's 20
 * scripts that is 17 µs per batch against 4 µs for a bare one (measured, node 20), paid
 * once or more per RPC.
 */
export function luaScript(redis: RedisLike, lua: string): LuaScript {
  const sha = createHash("sha1").update(lua).digest("hex");
  return {
    async run(numberOfKeys, ...keysThenArgs) {
      try {
        return await redis.evalsha(sha, numberOfKeys, ...keysThenArgs);
      } catch (error) {
        if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
        return redis.eval(lua, numberOfKeys, ...keysThenArgs);
      }
    },
  };
}
