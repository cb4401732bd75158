import { afterAll, beforeAll } from "vitest";
import { createManualClock, type ManualClock } from "../../src/clock.js";
import type { ConfigOverrides } from "../../src/config/index.js";
import { type Clients, type Enrolled, enrollAgent, grpcClients } from "./flows.js";
import { type StoreKind, startTestGatehouse, type TestGatehouse } from "./gatehouse.js";

export interface UseGatehouseOptions {
  readonly storeKind?: StoreKind;
  /** The redis-server URL (from `useRedis()`); read only when `storeKind` is "redis". */
  readonly redisUrl?: () => string;
  /** Run the Gatehouse on a manual clock, started at the current time. */
  readonly clock?: boolean;
  readonly overrides?: ConfigOverrides;
}

export interface GatehouseFixture {
  readonly gh: TestGatehouse;
  /** Only with `clock: true`. */
  readonly clock: ManualClock;
  /** One enrolled agent. */
  readonly agent: Enrolled;
  /** grpc-js clients presenting the agent's certificate. */
  readonly clients: Clients;
  /** grpc-js clients presenting the verifier's certificate. */
  readonly verifier: Clients;
}

/**
 * Starts a Gatehouse for the enclosing describe (beforeAll), enrolls one agent with clients for
 * it and for a verifier, and closes everything in afterAll. The getters throw before beforeAll.
 */
export function useGatehouse(options: UseGatehouseOptions = {}): GatehouseFixture {
  let state: GatehouseFixture | undefined;
  let gh: TestGatehouse | undefined;
  const open: Clients[] = [];

  beforeAll(async () => {
    const { storeKind, redisUrl, overrides } = options;
    const clock = options.clock ? createManualClock(Date.now()) : undefined;
    if (storeKind === "redis" && !redisUrl) throw new Error("redis store needs redisUrl");
    gh = await startTestGatehouse({
      ...(storeKind ? { storeKind } : {}),
      ...(clock ? { clock } : {}),
      ...(storeKind === "redis" && redisUrl ? { redisUrl: redisUrl() } : {}),
      ...(overrides ? { overrides } : {}),
    });
    const agent = await enrollAgent(gh);
    const clients = grpcClients(gh, agent.agentTls);
    const verifier = grpcClients(gh, agent.verifierTls);
    open.push(clients, verifier);
    const started = gh;
    state = {
      gh: started,
      get clock() {
        if (!clock) throw new Error("useGatehouse: pass clock: true for a manual clock");
        return clock;
      },
      agent,
      clients,
      verifier,
    };
  });
  afterAll(async () => {
    for (const clients of open.splice(0)) clients.close();
    await gh?.dispose();
  });

  const current = (): GatehouseFixture => {
    if (!state) throw new Error("useGatehouse: the Gatehouse is not started yet (use in tests)");
    return state;
  };
  return {
    get gh() {
      return current().gh;
    },
    get clock() {
      return current().clock;
    },
    get agent() {
      return current().agent;
    },
    get clients() {
      return current().clients;
    },
    get verifier() {
      return current().verifier;
    },
  };
}
