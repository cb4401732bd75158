export type { ApprovalServerOptions } from "./options.js";
export { type ApprovalServer, createApprovalServer } from "./server.js";
