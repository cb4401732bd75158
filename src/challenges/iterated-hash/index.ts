import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { ChallengeKind, IteratedHashChallengeSchema } from "../../../gen/gatehouse/v1/gate_pb.js";
import { constantTimeEqual } from "../../crypto/constant-time.js";
import { siblingModule } from "../compute/start-worker.js";
import { createWorkerPool } from "../compute/worker-pool.js";
import type { ChallengeKindPlugin } from "../types.js";
import type { IteratedHashJob } from "./worker.js";

export interface IteratedHashSettings {
  /** N for newly issued challenges (a challenge keeps the N it was issued with). */
  readonly iterations: number;
  /** Worker threads that recompute answers. */
  readonly workers: number;
}

/** The kind and what must be released at shutdown: its worker threads. */
export interface IteratedHashKind {
  readonly plugin: ChallengeKindPlugin<"iteratedHash">;
  close(): Promise<void>;
}

/**
 * Submissions that may wait per worker. At the default N (a check is ~25 ms of one core, more
 * on a busy host) that bounds the wait to about a second; past it a flood is refused
 * (UNAVAILABLE) instead of piling up.
 */
const QUEUE_PER_WORKER = 32;

/**
 * The legacy iterated-SHA-256 puzzle. Checking an answer costs as much as computing it, so
 * the check runs on the worker pool, never the event loop; the submit pipeline calls it
 * only after the cheap checks (consumption, identity, deadline) passed.
 */
export function createIteratedHashKind(settings: IteratedHashSettings): IteratedHashKind {
  const pool = createWorkerPool<IteratedHashJob, string>({
    script: siblingModule("worker", import.meta.url),
    size: settings.workers,
    maxQueue: QUEUE_PER_WORKER * settings.workers,
  });
  const plugin: ChallengeKindPlugin<"iteratedHash"> = {
    kind: ChallengeKind.ITERATED_HASH,
    answerCase: "iteratedHash",

    async issue(context) {
      const seed = randomBytes(32).toString("hex");
      const { iterations } = settings;
      const body = create(IteratedHashChallengeSchema, { seed, iterations });
      return {
        state: { seed, iterations: String(iterations) },
        body: { case: "iteratedHash", value: body },
        expiresAt: context.record.issuedAt + context.defaultTtlMs,
      };
    },

    async verify(context, answer) {
      const { seed, iterations } = context.record.state;
      if (seed === undefined || iterations === undefined) return false;
      const expected = await pool.run({ seed, iterations: Number(iterations) });
      // The contract admits upper-case hex; the digest is the same.
      return constantTimeEqual(answer.digest.toLowerCase(), expected);
    },
  };
  return { plugin, close: () => pool.close() };
}
