// Thin wiring: the agent helpers live in the SDK package (clients/typescript, @gatehouse/client).
export * from "../../clients/typescript/src/agent/assertion.js";
export * from "../../clients/typescript/src/agent/attestation.js";
export * from "../../clients/typescript/src/agent/challenge.js";
export * from "../../clients/typescript/src/agent/did.js";
export * from "../../clients/typescript/src/agent/dpop.js";
export * from "../../clients/typescript/src/agent/key.js";
export * from "../../clients/typescript/src/agent/registration.js";
