/**
 * `npx tsx bench/profile-summary.ts [--calls N] <file.cpuprofile>...`: where a server's CPU
 * went, by component, from the V8 CPU profiles BENCH_SERVER_PROFILE or IN_PROCESS_PROFILE
 * write (several files are added up: the workers of one run). With `--calls`, each component's
 * µs per call too, e.g. per login, to set Gatehouse's figure beside the floors' in the same
 * minute.
 *
 * Each sample goes to the component of the frame nearest its leaf that belongs to one (see
 * COMPONENTS), Node's own frames counting for the code that called them: Ed25519 work called by
 * the audit writer counts as crypto, the Redis client's encoding called by a rate limit and its
 * socket writes as the Redis client; what is left in src/audit is the audit's own work. Samples
 * with no such frame (microtask runs, timers) are "other"; idle time is left out.
 */
import { readFile } from "node:fs/promises";

/** The fields of a `.cpuprofile` (Chrome DevTools' Profiler.Profile) read here. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A component: its name and whether a frame (function name, script URL) belongs to it. */
interface Component {
  readonly name: string;
  readonly has: (functionName: string, url: string) => boolean;
}

const inUrl =
  (...parts: string[]) =>
  (_: string, url: string) =>
    parts.some((part) => url.includes(part));

/** In order: a frame goes to the first component that has it. */
const COMPONENTS: readonly Component[] = [
  { name: "garbage collector", has: (fn) => fn === "(garbage collector)" },
  // node:crypto's synchronous jobs run as native frames of these names.
  {
    name: "crypto (Ed25519, hashes, random)",
    has: (fn, url) => url === "" && /^(run|SignJob|VerifyJob|Hash|Hmac|RandomBytesJob)$/.test(fn),
  },
  {
    name: "Redis client",
    has: inUrl("node_modules/ioredis/", "node_modules/redis-parser/", "/src/store/redis/"),
  },
  { name: "metrics", has: inUrl("node_modules/prom-client/", "/src/observability/") },
  { name: "audit", has: inUrl("/src/audit/") },
  { name: "rate limits", has: inUrl("/src/services/gate/abuse/", "/src/store/rate-limit-args") },
  { name: "validation", has: inUrl("/src/validation/") },
  {
    name: "gate logic",
    has: inUrl(
      "/src/services/",
      "/src/challenges/",
      "/src/grants/",
      "/src/crypto/",
      "/src/verify/",
      "/bench/login-floor",
    ),
  },
  {
    name: "store ports (memory, common)",
    has: inUrl("/src/store/"),
  },
  // Gatehouse's own RPC layer over grpc-js: dispatch, caller, policy, call steps.
  { name: "RPC layer (src/server)", has: inUrl("/src/server/") },
  {
    name: "transport (gRPC, HTTP/2, TLS, protobuf)",
    has: inUrl(
      "node_modules/@grpc/",
      "node_modules/@bufbuild/",
      "/gen/",
      "node:internal/http2",
      "node:_tls",
      "node:tls",
      "node:net",
      "node:internal/stream",
      "node:internal/js_stream",
    ),
  },
];

const OTHER = "other (event loop, microtasks, program)";
/** Components that a native frame decides wherever it is called from. */
const NATIVE = new Set(["garbage collector", "crypto (Ed25519, hashes, random)"]);

export interface ProfileSummary {
  /** Busy time (idle left out), µs. */
  readonly busyUs: number;
  /** µs by component, largest first. */
  readonly components: readonly { readonly name: string; readonly us: number }[];
}

export function summarizeProfiles(profiles: readonly CpuProfile[]): ProfileSummary {
  const totals = new Map<string, number>();
  let busyUs = 0;
  for (const profile of profiles) {
    for (const [leaf, us] of sampleTimes(profile)) {
      const name = componentOf(profile, leaf);
      if (name === undefined) continue; // idle
      busyUs += us;
      totals.set(name, (totals.get(name) ?? 0) + us);
    }
  }
  const components = [...totals].map(([name, us]) => ({ name, us })).sort((a, b) => b.us - a.us);
  return { busyUs, components };
}

/** Time by sampled (leaf) node id: each sample lasts its time delta. */
function sampleTimes(profile: CpuProfile): Map<number, number> {
  const times = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    times.set(id, (times.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return times;
}

/** The component of the frame nearest `leaf`; undefined for idle time. */
function componentOf(profile: CpuProfile, leaf: number): string | undefined {
  const { byId, parentOf } = indexOf(profile);
  /** The component of the nearest of Node's own frames, used when no code of ours is above. */
  let internal: string | undefined;
  for (let id: number | undefined = leaf; id !== undefined; id = parentOf.get(id)) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) break;
    if (frame.functionName === "(idle)") return undefined;
    const component = COMPONENTS.find((c) => c.has(frame.functionName, frame.url));
    if (component && NATIVE.has(component.name)) return component.name;
    // Node's own code (streams, events, http2, a socket's write) counts for whoever called it:
    // a write to Redis's socket is the Redis client's, a frame sent by grpc-js the transport's.
    if (frame.url === "" || frame.url.startsWith("node:")) {
      internal ??= component?.name;
      continue;
    }
    if (component) return component.name;
  }
  return internal ?? OTHER;
}

type Node = CpuProfile["nodes"][number];
const indexes = new WeakMap<
  CpuProfile,
  { byId: Map<number, Node>; parentOf: Map<number, number> }
>();

function indexOf(profile: CpuProfile) {
  let index = indexes.get(profile);
  if (!index) {
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parentOf = new Map<number, number>();
    for (const node of profile.nodes) {
      for (const child of node.children ?? []) parentOf.set(child, node.id);
    }
    index = { byId, parentOf };
    indexes.set(profile, index);
  }
  return index;
}

/** The table the command prints: ms, share of busy time and, with `calls`, µs per call. */
export function formatSummary(summary: ProfileSummary, calls?: number): string {
  const rows = summary.components.map(({ name, us }) => {
    const share = `${((100 * us) / Math.max(1, summary.busyUs)).toFixed(1)} %`.padStart(7);
    const perCall = calls ? `${(us / calls).toFixed(0).padStart(6)} µs/call` : "";
    return `${name.padEnd(42)} ${(us / 1000).toFixed(0).padStart(7)} ms ${share} ${perCall}`;
  });
  const total = calls ? `${(summary.busyUs / calls).toFixed(0).padStart(6)} µs/call` : "";
  rows.push(
    `${"busy".padEnd(42)} ${(summary.busyUs / 1000).toFixed(0).padStart(7)} ms ${"100 %".padStart(7)} ${total}`,
  );
  return rows.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--calls");
  const calls = at >= 0 ? Number(args.splice(at, 2)[1]) : undefined;
  if (args.length === 0 || (calls !== undefined && !(calls > 0))) {
    throw new Error("usage: bench/profile-summary.ts [--calls N] <file.cpuprofile>...");
  }
  const profiles = await Promise.all(
    args.map(async (file) => JSON.parse(await readFile(file, "utf8")) as CpuProfile),
  );
  console.log(formatSummary(summarizeProfiles(profiles), calls));
}
