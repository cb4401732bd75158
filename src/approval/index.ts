export { createInvite, type InviteRecord, redeemInvite } from "./invites.js";
export type { ApprovalServerOptions } from "./options.js";
export { type ApprovalServer, createApprovalServer } from "./server.js";
