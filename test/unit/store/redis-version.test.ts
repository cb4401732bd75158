import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../../src/clock.js";
import { createStore, StorePreconditionError } from "../../../src/store/index.js";
import { redisVersionOf } from "../../../src/store/redis/version.js";

/**
 * A stand-in for an old Redis (this machine has Redis 7 only): a RESP server that answers
 * every INFO with `redis_version`, anything else with +OK. Commands are split on their
 * array headers; the test sends nothing larger than one read.
 */
async function fakeRedis(version: string): Promise<{ url: string; server: Server }> {
  const info = `# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\n`;
  const server = createServer((socket) => {
    socket.on("data", (data) => {
      for (const command of data.toString("latin1").split("*").slice(1)) {
        const name = command.split("\r\n")[2]?.toUpperCase();
        socket.write(name === "INFO" ? `$${Buffer.byteLength(info)}\r\n${info}\r\n` : "+OK\r\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `redis://127.0.0.1:${port}`, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.close();
  }
});

describe("the Redis version at start-up", () => {
  it("reads redis_version from INFO server", () => {
    expect(redisVersionOf("# Server\r\nredis_version:7.2.4\r\nos:Linux\r\n")).toBe("7.2.4");
    expect(redisVersionOf("# Server\r\nos:Linux\r\n")).toBeUndefined();
  });

  it("refuses a server older than 7.0, naming what it found", async () => {
    const old = await fakeRedis("6.2.14");
    servers.push(old.server);
    const opening = createStore({ kind: "redis", url: old.url, clock: systemClock });
    await expect(opening).rejects.toBeInstanceOf(StorePreconditionError);
    await expect(opening).rejects.toThrow(/Redis 7\.0 or later is required.*reports 6\.2\.14/);
  });

  it("opens on a server that reports 7 or later", async () => {
    const recent = await fakeRedis("7.0.0");
    servers.push(recent.server);
    const store = await createStore({ kind: "redis", url: recent.url, clock: systemClock });
    await store.close();
  });
});
