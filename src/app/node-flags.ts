/**
 * The V8 flags Gatehouse runs its server processes with: `npm start` passes them, and a
 * `--workers` primary forks its workers with them. Operators who start `node` themselves (a
 * container's command, a unit file) pass them too, or set NODE_OPTIONS, which accepts them.
 *
 * `--max-semi-space-size=2` (MiB): V8's young generation grows to 2 × 16 MiB while the modules
 * load and stays committed though almost empty at idle (0.2 MiB used). At 2 MiB, measured with
 * `BENCH_ONLY=footprint BENCH_SUSTAIN_SECONDS=60 npm run bench` in two alternating pairs of
 * runs (docs/performance.md): idle RSS 103 → 92 MiB, peak under the mixed load 121–145 →
 * 103–105 MiB; server CPU per operation 1841 and 2666 µs without, 1867 and 1062 µs with: on
 * a loaded host, no cost of the more frequent scavenges shows above the run-to-run noise.
 *
 * What the small young generation costs per call, from `bench/gc-per-call.ts` (gRPC, 8 in
 * flight; figures per call, which the host's load does not change): the empty RPC allocates
 * ~22 KB (grpc-js and node:http2), a cached Verify ~27 KB; at 2 MiB that is ~125 and ~150
 * scavenges per 10,000 calls, halved by each doubling of the semi-space (Verify: 81 at 4 MiB,
 * 40 at 8, 20 at 16), no mark-compact within a run. 4 MiB measured in alternating footprint
 * runs (BENCH_ONLY=footprint, 20 s of load, loaded host): idle RSS 96.1 and 93.1 MiB against
 * 81.7 and 91.4 at 2 MiB, under load 122–133 against 100–104 MiB: more than the idle target
 * allows, so 2 stays.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=2"];

/** `execArgv` with the server's flags added, unless the operator set each already. */
export function withServerNodeFlags(execArgv: readonly string[]): string[] {
  const name = (flag: string) => flag.split("=")[0];
  const set = new Set(execArgv.map(name));
  return [...execArgv, ...SERVER_NODE_FLAGS.filter((flag) => !set.has(name(flag)))];
}
