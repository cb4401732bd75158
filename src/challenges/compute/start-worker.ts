import { Worker } from "node:worker_threads";

/**
 * The worker module `name` next to the calling module (`base` = its import.meta.url), with
 * the caller's own extension: `.ts` when running from source (tsx, vitest), `.js` once
 * `npm run build` has emitted both side by side in dist/.
 */
export function siblingModule(name: string, base: string): URL {
  const extension = new URL(base).pathname.endsWith(".ts") ? "ts" : "js";
  return new URL(`./${name}.${extension}`, base);
}

/**
 * Starts a worker thread on `script`. Emitted JavaScript starts directly. TypeScript
 * source cannot: a worker thread does not inherit the parent's module hooks, and with
 * `--import tsx` in its execArgv Node 20 still refuses the `.ts` entry
 * (ERR_UNKNOWN_FILE_EXTENSION). So a one-line bootstrap registers tsx (a dev dependency,
 * present whenever source runs) in the worker and then imports the entry.
 */
export function startWorker(script: URL): Worker {
  if (!script.pathname.endsWith(".ts")) return new Worker(script);
  const api = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const entry = JSON.stringify(script.href);
  const bootstrap = `import(${api}).then((tsx) => (tsx.register(), import(${entry})));`;
  return new Worker(bootstrap, { eval: true });
}
