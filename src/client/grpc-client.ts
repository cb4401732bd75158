// Thin wiring: the client lives in the SDK package (clients/typescript, @gatehouse/client).
export * from "../../clients/typescript/src/transport/grpc.js";
