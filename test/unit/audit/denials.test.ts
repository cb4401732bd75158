import { timestampMs } from "@bufbuild/protobuf/wkt";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AuditEventType } from "../../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { createDenialFolder, type Denial } from "../../../src/audit/denials.js";
import type { AuditEventInput } from "../../../src/audit/writer.js";
import { createManualClock } from "../../../src/clock.js";
import { createLogger } from "../../../src/observability/logger.js";

const logger = createLogger("silent");

function denial(overrides: Partial<Denial> = {}): Denial {
  return {
    denied: AuditEventType.VERIFY_DENIED,
    reason: Reason.TOKEN_MALFORMED,
    actorRole: "verifier",
    actor: "edge",
    actorFingerprint: "ab".repeat(32),
    subjectDid: "",
    operatorDomain: "",
    ...overrides,
  };
}

/** A folder whose entries land in `written`; `fail` makes the next writes reject. */
function setup(options: { windowMs?: number; maxKeys?: number } = {}) {
  const clock = createManualClock(1_700_000_000_000);
  const written: AuditEventInput[] = [];
  let failing = 0;
  const folder = createDenialFolder({
    record: async (event) => {
      if (failing > 0) {
        failing -= 1;
        throw new Error("store down");
      }
      written.push(event);
    },
    clock,
    logger,
    windowMs: options.windowMs ?? 60_000,
    maxKeys: options.maxKeys ?? 4,
  });
  const counted = () => written.reduce((sum, e) => sum + Number(e.denials?.count ?? 0), 0);
  return {
    clock,
    folder,
    written,
    counted,
    fail: (n: number) => {
      failing = n;
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("denial folder", () => {
  it("folds a flood under one key into one entry with its count and window", async () => {
    const { clock, folder, written } = setup();
    for (let n = 0; n < 10_000; n++) folder.fold(denial());
    clock.advance(5_000);
    await folder.flush();
    expect(written).toHaveLength(1);
    const [entry] = written;
    expect(entry).toMatchObject({
      type: AuditEventType.DENIALS_FOLDED,
      reason: Reason.TOKEN_MALFORMED,
      actorRole: "verifier",
      actor: "edge",
      subjectDid: "",
      denials: { denied: AuditEventType.VERIFY_DENIED, count: 10_000n, overflow: false },
    });
    const { windowStart, windowEnd } = entry?.denials ?? {};
    expect(windowStart && timestampMs(windowStart as never)).toBe(1_700_000_000_000);
    expect(windowEnd && timestampMs(windowEnd as never)).toBe(1_700_000_005_000);
  });

  it("keeps kind, reason, agent and caller apart", async () => {
    const { folder, written } = setup();
    folder.fold(denial());
    folder.fold(denial({ denied: AuditEventType.CHECK_DENIED }));
    folder.fold(denial({ reason: Reason.TOKEN_EXPIRED }));
    folder.fold(denial({ actorFingerprint: "cd".repeat(32) }));
    folder.fold(denial());
    await folder.flush();
    expect(written.map((e) => Number(e.denials?.count))).toEqual([2, 1, 1, 1]);
  });

  it("folds keys past the limit into one overflow entry: maxKeys + 1 entries at most", async () => {
    const { folder, written, counted } = setup({ maxKeys: 4 });
    for (let n = 0; n < 5_000; n++) {
      folder.fold(
        denial({ subjectDid: `did:agent:x.example:${String(n % 1000).padStart(32, "0")}` }),
      );
    }
    await folder.flush();
    expect(written).toHaveLength(5);
    expect(counted()).toBe(5_000);
    const overflow = written.filter((e) => e.denials?.overflow);
    expect(overflow).toHaveLength(1);
    // No key: only the system as its actor, and the count.
    expect(overflow[0]).toEqual({
      type: AuditEventType.DENIALS_FOLDED,
      actorRole: "system",
      denials: expect.objectContaining({
        denied: AuditEventType.UNSPECIFIED,
        count: BigInt(5_000 - 4 * 5),
        overflow: true,
      }),
    });
  });

  it("writes each window when it closes, by itself", async () => {
    vi.useFakeTimers();
    const { folder, written } = setup({ windowMs: 1_000 });
    folder.fold(denial());
    folder.fold(denial());
    await vi.advanceTimersByTimeAsync(999);
    expect(written).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(written.map((e) => e.denials?.count)).toEqual([2n]);
    folder.fold(denial());
    await vi.advanceTimersByTimeAsync(1_000);
    expect(written.map((e) => e.denials?.count)).toEqual([2n, 1n]);
  });

  it("folds a failed write back into the next window: nothing uncounted", async () => {
    const { folder, written, counted, fail } = setup();
    for (let n = 0; n < 30; n++)
      folder.fold(denial({ reason: n % 2 ? Reason.TOKEN_MALFORMED : Reason.TOKEN_EXPIRED }));
    fail(2);
    await folder.flush();
    expect(written).toHaveLength(0);
    folder.fold(denial({ reason: Reason.TOKEN_MALFORMED }));
    await folder.flush();
    expect(written).toHaveLength(2);
    expect(counted()).toBe(31);
  });
});
