import { decide, decisionOptions } from "./api/decide.js";
import { enrollOptions, enrollVerify } from "./api/enroll.js";
import { listGrants } from "./api/grants.js";
import { loginOptions, loginVerify } from "./api/login.js";
import { logout, sessionInfo } from "./api/session.js";
import type { AssetName, Assets } from "./assets.js";
import type { ApprovalContext } from "./context.js";
import type { ApprovalRoute } from "./guards.js";
import type { Reply } from "./http/response.js";

/** A grant id in a path (the GetGrant rule); patterns are anchored. */
const GRANT = "([A-Za-z0-9_-]{1,64})";

/**
 * Every route of the approval page and who may call it (see `ApprovalRoute` in guards.ts).
 * Anything else is a 404, a known path with another method a 405.
 */
export function approvalRoutes(ctx: ApprovalContext, assets: Assets): readonly ApprovalRoute[] {
  const asset = (name: AssetName) => async (): Promise<Reply> => ({
    kind: "asset",
    asset: assets[name],
  });
  return [
    { method: "GET", path: "/approve", access: "public", handle: asset("approve.html") },
    { method: "GET", path: "/approve/enroll", access: "public", handle: asset("enroll.html") },
    { method: "GET", path: "/approve/assets/app.js", access: "public", handle: asset("app.js") },
    { method: "GET", path: "/approve/assets/app.css", access: "public", handle: asset("app.css") },
    {
      method: "POST",
      path: "/approve/api/enroll/options",
      access: "same-origin",
      handle: enrollOptions(ctx),
    },
    {
      method: "POST",
      path: "/approve/api/enroll/verify",
      access: "same-origin",
      handle: enrollVerify(ctx),
    },
    {
      method: "POST",
      path: "/approve/api/login/options",
      access: "same-origin",
      handle: loginOptions(ctx),
    },
    {
      method: "POST",
      path: "/approve/api/login/verify",
      access: "same-origin",
      handle: loginVerify(ctx),
    },
    { method: "GET", path: "/approve/api/session", access: "session", handle: sessionInfo() },
    { method: "POST", path: "/approve/api/logout", access: "session-csrf", handle: logout(ctx) },
    { method: "GET", path: "/approve/api/grants", access: "session", handle: listGrants(ctx) },
    {
      method: "POST",
      path: new RegExp(`^/approve/api/grants/${GRANT}/options$`),
      access: "session-csrf",
      handle: decisionOptions(ctx),
    },
    {
      method: "POST",
      path: new RegExp(`^/approve/api/grants/${GRANT}/decide$`),
      access: "session-csrf",
      handle: decide(ctx),
    },
  ];
}
