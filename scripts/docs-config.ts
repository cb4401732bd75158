/** `npm run docs:config`: rewrites the README's configuration table from src/config/table.ts. */
import { readFile, writeFile } from "node:fs/promises";
import { withConfigurationTable } from "../src/config/docs.js";

const README = new URL("../README.md", import.meta.url);
const before = await readFile(README, "utf8");
const after = withConfigurationTable(before);
if (after !== before) await writeFile(README, after);
console.log(
  after === before
    ? "README.md: configuration table up to date"
    : "README.md: configuration table rewritten",
);
