import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DataFs, nodeFs } from "../../../src/store/memory/data-fs.js";
import { JsonFile, type Persistent } from "../../../src/store/memory/json-file.js";

type State = { readonly items: readonly string[] };

const parse = (data: unknown): State => data as State;

/** A port holding a list, as the memory store's ports hold their records. */
function listPort(): Persistent<State> & { items: string[] } {
  const port = {
    items: [] as string[],
    snapshot: (): State => ({ items: [...port.items] }),
    restore: (snapshot: State | undefined) => {
      port.items = [...(snapshot?.items ?? [])];
    },
  };
  return port;
}

describe("JsonFile", () => {
  let dir: string;
  let full: boolean;
  /** Holds a failing save at its rename until the test lets it fail. */
  let renaming: { reached: () => void; release: Promise<void> } | undefined;
  const fs: DataFs = {
    ...nodeFs,
    async rename(from, to) {
      if (renaming) {
        renaming.reached();
        await renaming.release;
      }
      if (full) throw Object.assign(new Error("ENOSPC: simulated"), { code: "ENOSPC" });
      return nodeFs.rename(from, to);
    },
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "gatehouse-json-file-"));
    full = false;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("rolls memory back to the file and refuses every change the failed save undid", async () => {
    const file = new JsonFile(fs, dir, "state.json", parse);
    const port = listPort();
    port.items.push("durable");
    await file.save(port);

    full = true;
    let release = () => {};
    const reached = new Promise<void>((resolve) => {
      renaming = { reached: resolve, release: new Promise((done) => (release = done)) };
    });
    port.items.push("a");
    const first = file.save(port);
    await reached;
    // Made while the first save is in flight: queued behind it, undone with it.
    port.items.push("b");
    const second = file.save(port);
    expect(second).not.toBe(first);
    renaming = undefined;
    release();
    await expect(first).rejects.toMatchObject({ code: "ENOSPC" });
    await expect(second).rejects.toMatchObject({ code: "ENOSPC" });
    expect(port.items).toEqual(["durable"]);

    full = false;
    port.items.push("c");
    await file.save(port);
    const onDisk = JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as State;
    expect(onDisk.items).toEqual(["durable", "c"]);
  });
});
