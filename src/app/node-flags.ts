/**
 * The V8 flags Gatehouse runs its server processes with: `npm start` passes them, and a
 * `--workers` primary forks its workers with them. Operators who start `node` themselves (a
 * container's command, a unit file) pass them too, or set NODE_OPTIONS, which accepts them.
 *
 * `--max-semi-space-size=8` (MiB): how far V8 may grow the young generation. V8 starts it small
 * and grows it only while allocation runs fast, so it decides the footprint under load, not at
 * idle: the bundled server idles at the same RSS whatever the cap (67.7 MiB at 2, 67.8 at 8,
 * 67.9 at 16; `BENCH_ONLY=footprint BENCH_SUSTAIN_SECONDS=60 npm run bench`, 2026-12-07), and
 * peaks under 60 s of mixed load at 147, 158 and 176 MiB. Under load the larger young generation
 * means fewer scavenges, and fewer of the in-flight calls' objects copied by each (a login keeps
 * its promises and records alive across several Redis round trips): the garbage collector's
 * share of a login in process (`IN_PROCESS_PROFILE=… npx tsx bench/in-process.ts login`, then
 * bench/profile-summary.ts) 129 and 135 µs at 2 MiB, 78 and 72 at 8. Over sockets, in
 * alternating runs of `BENCH_ONLY=login BENCH_SERVER_NODE_FLAGS=--max-semi-space-size=N npm run
 * bench` (a noisy host), server CPU per login 3,196, 2,682, 2,832 and 1,997 µs at 2 MiB (median
 * 2,757), 2,395 and 2,553 at 8, 2,697 and 2,294 at 16. 8 keeps the gain with the lower peak.
 *
 * (The cap was 2 MiB while the server loaded ~840 modules through tsx: the young generation
 * then grew to its cap during start-up and stayed committed at idle. The bundle allocates far
 * less while it loads.) Per call, from `bench/gc-per-call.ts` (gRPC, 8 in flight): the empty
 * RPC allocates ~22 KB, a cached Verify ~27 KB; scavenges per 10,000 Verify calls ~150 at 2 MiB,
 * 81 at 4, 40 at 8, 20 at 16.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8"];

/** `execArgv` with the server's flags added, unless the operator set each already. */
export function withServerNodeFlags(execArgv: readonly string[]): string[] {
  const name = (flag: string) => flag.split("=")[0];
  const set = new Set(execArgv.map(name));
  return [...execArgv, ...SERVER_NODE_FLAGS.filter((flag) => !set.has(name(flag)))];
}
