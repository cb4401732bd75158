/** `npm run generate:sha256`: rewrites the generated SHA-256 of a digest (see its source). */
import { readFile, writeFile } from "node:fs/promises";
import { sha256DigestSource } from "./sha256-digest-source.js";

const TARGET = new URL(
  "../src/challenges/iterated-hash/sha256-digest.generated.ts",
  import.meta.url,
);
const before = await readFile(TARGET, "utf8").catch(() => "");
const after = sha256DigestSource();
if (after !== before) await writeFile(TARGET, after);
console.log(`sha256-digest.generated.ts: ${after === before ? "up to date" : "rewritten"}`);
