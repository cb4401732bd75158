import { parentPort } from "node:worker_threads";
import type { WorkerReply } from "../compute/worker-pool.js";
import { iteratedSha256 } from "./iterate.js";

/** A job for the iterated-hash worker: the stored seed (hex) and N. */
export interface IteratedHashJob {
  readonly seed: string;
  readonly iterations: number;
}

// Worker entry: one job per message, answered with h_N in lowercase hex. A failure reply
// carries a fixed text, never the seed.
parentPort?.on("message", ({ seed, iterations }: IteratedHashJob) => {
  let reply: WorkerReply<string>;
  try {
    reply = {
      ok: true,
      value: iteratedSha256(Buffer.from(seed, "hex"), iterations).toString("hex"),
    };
  } catch {
    reply = { ok: false, error: "iterated hash failed" };
  }
  parentPort?.postMessage(reply);
});
