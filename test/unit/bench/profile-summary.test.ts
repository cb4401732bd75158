import { describe, expect, it } from "vitest";
import {
  type CpuProfile,
  formatSummary,
  summarizeProfiles,
} from "../../../bench/profile-summary.js";

/** A profile of the given call stacks (root first), each sampled once for `us`. */
function profileOf(stacks: readonly (readonly [string, string][])[], us: number): CpuProfile {
  const nodes: {
    id: number;
    callFrame: { functionName: string; url: string };
    children: number[];
  }[] = [{ id: 1, callFrame: { functionName: "(root)", url: "" }, children: [] }];
  const samples: number[] = [];
  for (const stack of stacks) {
    let parent = nodes[0];
    for (const [functionName, url] of stack) {
      const id = nodes.length + 1;
      const node = { id, callFrame: { functionName, url }, children: [] };
      nodes.push(node);
      parent?.children.push(id);
      parent = node;
    }
    samples.push(parent?.id ?? 1);
  }
  return { nodes, samples, timeDeltas: samples.map(() => us) };
}

const AUDIT = "file:///app/src/audit/writer.ts";
const IOREDIS = "file:///app/node_modules/ioredis/built/Redis.js";
const GRPC = "file:///app/node_modules/@grpc/grpc-js/build/src/server.js";

describe("bench/profile-summary", () => {
  it("puts each sample in the component of the frame nearest its leaf", () => {
    const profile = profileOf(
      [
        [
          ["build", AUDIT],
          ["run", ""],
        ], // Ed25519 signing called by the audit writer: crypto
        [
          ["build", AUDIT],
          ["sendCommand", IOREDIS],
          ["writeGeneric", "node:internal/stream_base_commons"],
          ["writeUtf8String", ""],
        ], // Redis client: its socket write, though node:internal/stream counts as transport
        [
          ["build", AUDIT],
          ["encode", "file:///app/src/audit/encode.ts"],
        ], // the audit's own
        [
          ["onData", GRPC],
          ["emit", "node:events"],
        ], // transport
        [
          ["onData", GRPC],
          ["invoke", "file:///app/src/server/dispatch.ts"],
        ], // Gatehouse's RPC layer
        [["(garbage collector)", ""]],
        [["(idle)", ""]], // left out
        [["runMicrotasks", ""]], // other
      ],
      100,
    );
    const summary = summarizeProfiles([profile, profile]);
    expect(summary.busyUs).toBe(1_400);
    expect(Object.fromEntries(summary.components.map((c) => [c.name, c.us]))).toEqual({
      "crypto (Ed25519, hashes, random)": 200,
      "Redis client": 200,
      audit: 200,
      "transport (gRPC, HTTP/2, TLS, protobuf)": 200,
      "RPC layer (src/server)": 200,
      "garbage collector": 200,
      "other (event loop, microtasks, program)": 200,
    });
    const table = formatSummary(summary, 4);
    expect(table).toContain("Redis client");
    expect(table).toMatch(/busy\s+1 ms\s+100 %\s+350 µs\/call/);
  });
});
