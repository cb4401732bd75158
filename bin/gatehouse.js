#!/usr/bin/env node
// The `gatehouse` command: the bundled CLI after `npm run build` (scripts/build.ts); in a
// source checkout without a build, the TypeScript source through tsx (a dev dependency), in
// this process, so signals and the exit code need no forwarding.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/bundle/gatehouse.js", import.meta.url);

if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL("../src/cli/main.ts", import.meta.url).href);
}
