/**
 * `npx tsx test/support/provision.ts`: installs the pinned Go and Python tools the global setup
 * installs, for the CI steps that need them before the tests (the SDK stubs' drift check).
 */
import { provisionGoTools, provisionPythonTools } from "./tools.js";

await provisionGoTools();
await provisionPythonTools();
