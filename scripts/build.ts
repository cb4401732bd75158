/**
 * `npm run build`: the `gatehouse` CLI, the server included, bundled by esbuild into
 * dist/bundle/ (what `npm start`, bin/gatehouse.js, the container image and the footprint bench
 * run).
 *
 * Why a bundle: `serve` otherwise resolves, reads and compiles ~840 modules (4.5 MB of
 * JavaScript, node_modules included) at every start; bundled, it loads about 20 files, with
 * the packages' unused ESM exports left out. Measured (docs/performance.md, "Start-up and
 * idle memory"): process CPU at ready 1,094 → 525 ms on Node 20 and 783 → 431 ms on Node 24, idle RSS
 * 83 → 75 MiB and 104 → 93 MiB. Each command stays a lazily loaded chunk (code splitting),
 * so `serve` still loads no certificate maker, management client or sidecar.
 *
 * What a bundle changes, and how it is kept working:
 * - Modules that read files beside themselves (`import.meta.url`) find them beside the bundle:
 *   every chunk lands in the one directory, the approval page's assets are copied to assets/,
 *   and the iterated-hash worker thread is an entry point of its own, worker.js, where
 *   siblingModule("worker", import.meta.url) looks for it.
 * - CommonJS packages (grpc-js, ioredis, pino) call `require` and read `__dirname`, which an
 *   ES module does not have: the banner defines both, for each chunk, from its own URL.
 * - Stack traces name dist/bundle/<chunk>.js lines (unminified: the function names are the
 *   source's); the linked source maps turn them into src/ lines with `--enable-source-maps`,
 *   which is not the default because it costs memory (measured in the same place).
 */
import { cp, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const OUT = "dist/bundle";

const BANNER = [
  'import { createRequire as __bundleRequire } from "node:module";',
  'import { fileURLToPath as __bundlePath } from "node:url";',
  "const require = __bundleRequire(import.meta.url);",
  "const __filename = __bundlePath(import.meta.url);",
  'const __dirname = __bundlePath(new URL(".", import.meta.url));',
].join(" ");

await rm(`${REPO}/${OUT}`, { recursive: true, force: true });
await build({
  absWorkingDir: REPO,
  entryPoints: {
    gatehouse: "src/cli/main.ts",
    worker: "src/challenges/iterated-hash/worker.ts",
  },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  banner: { js: BANNER },
  sourcemap: "linked",
  sourcesContent: false,
  logLevel: "warning",
});
await cp(`${REPO}/src/approval/assets`, `${REPO}/${OUT}/assets`, { recursive: true });
// The chunks are ES modules wherever dist/bundle is copied to (the container image).
await writeFile(`${REPO}/${OUT}/package.json`, `${JSON.stringify({ type: "module" })}\n`);
