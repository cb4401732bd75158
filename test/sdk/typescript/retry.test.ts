import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backoffDelay,
  createAgentFetch,
  createTokenCache,
  generateAgentKey,
  parseRetryAfter,
  retryPolicy,
  withRetry,
} from "../../../clients/typescript/src/agent/index.js";
import { GatehouseClientError, Reason } from "../../../clients/typescript/src/index.js";

describe("Retry-After (RFC 9110 §10.2.3)", () => {
  it("reads delay-seconds and HTTP-dates, and nothing else", () => {
    const now = Date.parse("2026-12-07T03:00:00Z");
    expect(parseRetryAfter("2", now)).toBe(2_000);
    expect(parseRetryAfter("Mon, 07 Dec 2026 03:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Mon, 07 Dec 2026 02:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-1", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("waits at least what the server asked, backs off with jitter otherwise, gives up past the cap", () => {
    const policy = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0.5 });
    expect(backoffDelay(policy, 0)).toBe(50);
    expect(backoffDelay(policy, 3)).toBe(400);
    expect(backoffDelay(policy, 10)).toBe(500);
    expect(backoffDelay(policy, 0, 3_000)).toBe(3_050);
    expect(backoffDelay(policy, 0, 61_000)).toBeUndefined();
  });

  it("retries RATE_LIMITED and UNAVAILABLE only", async () => {
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
    };
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls += 1;
        if (calls === 1)
          throw new GatehouseClientError("slow down", 8, Reason.RATE_LIMITED, {
            retryAfterMs: 1_500,
          });
        if (calls === 2) throw new GatehouseClientError("down", 14, Reason.UNAVAILABLE);
        return "ok";
      },
      { sleep, random: () => 0 },
    );
    expect(result).toBe("ok");
    expect(sleeps).toEqual([1_500, 0]);
    const refused = withRetry(
      async () => {
        throw new GatehouseClientError("no", 7, Reason.SCOPE_NOT_ALLOWED);
      },
      { sleep },
    );
    await expect(refused).rejects.toMatchObject({ reason: Reason.SCOPE_NOT_ALLOWED });
    expect(sleeps).toHaveLength(2);
  });
});

describe("agent fetch and 429 / 503", () => {
  const seen: string[] = [];
  let url = "";
  const server = createServer((req, res) => {
    seen.push(
      `${req.method} ${req.headers.authorization?.split(" ")[0]} ${req.headers.dpop ? "proof" : "none"}`,
    );
    if (seen.length === 1) res.writeHead(429, { "retry-after": "2" }).end();
    else if (seen.length === 2) res.writeHead(503).end();
    else res.writeHead(200).end("done");
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("honours Retry-After, backs off on 503, and signs every attempt afresh", async () => {
    const sleeps: number[] = [];
    const key = generateAgentKey();
    const tokens = createTokenCache({
      obtain: async () => ({
        accessToken: "bound-token",
        tokenType: "DPoP",
        expiresAtMs: Date.now() + 600_000,
        scopes: [],
      }),
    });
    const fetch = createAgentFetch({
      key,
      tokens,
      retry: { sleep: async (ms) => void sleeps.push(ms), random: () => 0 },
    });
    const response = await fetch(url, { method: "POST", body: "replayable" });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("done");
    expect(sleeps).toEqual([2_000, 0]);
    expect(seen).toEqual(["POST DPoP proof", "POST DPoP proof", "POST DPoP proof"]);
  });
});
