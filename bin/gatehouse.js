#!/usr/bin/env node
// The `gatehouse` command: the compiled CLI after `npm run build`; in a source checkout
// without a build, the TypeScript source through tsx (a dev dependency), in this process,
// so signals and the exit code need no forwarding.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/src/cli/main.js", import.meta.url);

if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL("../src/cli/main.ts", import.meta.url).href);
}
