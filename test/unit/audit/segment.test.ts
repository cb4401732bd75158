import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEntrySchema } from "../../../gen/gatehouse/v1/audit_pb.js";
import {
  readSegment,
  SEGMENT_FORMAT,
  writeSegment,
} from "../../../src/cli/manage/audit-archive.js";

const header = { format: SEGMENT_FORMAT, first: 1, last: 2, lastHash: "ab".repeat(32) } as const;
const entries = [1, 2].map((n) =>
  create(AuditEntrySchema, {
    eventBytes: new Uint8Array([n, n]),
    hash: new Uint8Array(32).fill(n),
    signature: new Uint8Array(64).fill(n),
  }),
);

async function readAll(path: string) {
  const read = [];
  const segment = readSegment(path);
  for (let next = await segment.next(); ; next = await segment.next()) {
    if (next.done) return { read, header: next.value };
    read.push(next.value);
  }
}

describe("audit segment files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gatehouse-segment-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads back what was written: the bytes the chain rules read, and the header", async () => {
    const path = join(dir, "ok.jsonl");
    await writeSegment(path, header, entries);
    const { read, header: back } = await readAll(path);
    expect(back).toEqual(header);
    expect(read.map((e) => [[...e.eventBytes], e.hash, e.signature.length])).toEqual([
      [[1, 1], "01".repeat(32), 64],
      [[2, 2], "02".repeat(32), 64],
    ]);
  });

  it("never overwrites an existing file", async () => {
    const path = join(dir, "taken.jsonl");
    await writeFile(path, "keep\n");
    await expect(writeSegment(path, header, entries)).rejects.toThrow();
    expect(await readFile(path, "utf8")).toBe("keep\n");
  });

  it("refuses a cut segment, a foreign header and a line that is not an entry", async () => {
    const path = join(dir, "bad.jsonl");
    await writeSegment(path, header, entries);
    const lines = (await readFile(path, "utf8")).trim().split("\n");
    const cases = [
      [lines.slice(0, 2), /holds 1 entries, its header says 1–2/],
      [[JSON.stringify({ ...header, format: "other" }), ...lines.slice(1)], /header/],
      [[lines[0], lines[1], "{}"], /line 3 is not an entry/],
      [[lines[0], "not json"], /not JSON/],
    ] as const;
    for (const [content, message] of cases) {
      const file = join(dir, `case-${Math.random()}.jsonl`);
      await writeFile(file, `${content.join("\n")}\n`);
      await expect(readAll(file)).rejects.toThrow(message);
    }
  });
});
