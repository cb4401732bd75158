import type { KeyRing } from "../crypto/key-ring.js";
import type { Store } from "../store/ports.js";

/** What `/readyz` reports: each check by name, and whether all of them pass. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, "ok" | "failed">>;
}

export type ReadinessCheck = () => Promise<ReadinessReport>;

export interface ServerReadinessSources {
  readonly store: Pick<Store, "ping">;
  readonly keys: Pick<KeyRing, "schedule">;
  /** True once shutdown began: the orchestrator should send no new traffic. */
  readonly draining: () => boolean;
  /** Each check's bound; kubelet's probe timeout is 1 s by default. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 900;

/**
 * Ready means able to serve: the store answers a PING, a signing key is loaded and signing
 * (a key ring that cannot read its keys cannot issue or verify), and the server is not
 * draining. A check that does not answer within the bound has failed.
 */
export function serverReadiness(sources: ServerReadinessSources): ReadinessCheck {
  const timeoutMs = sources.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return async () => {
    const [store, keys] = await Promise.all([
      passes(() => sources.store.ping(), timeoutMs),
      passes(async () => {
        const schedule = await sources.keys.schedule();
        if (!schedule.some((key) => key.state === "signing")) throw new Error("no signing key");
      }, timeoutMs),
    ]);
    const serving = !sources.draining();
    const checks = {
      store: store ? "ok" : "failed",
      signing_keys: keys ? "ok" : "failed",
      not_draining: serving ? "ok" : "failed",
    } as const;
    return { ready: store && keys && serving, checks };
  };
}

async function passes(check: () => Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      check().then(
        () => true,
        () => false,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
