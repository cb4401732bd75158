import { isRecord } from "../http/request.js";
import { approvalInvalid } from "./refusal.js";

/**
 * WebAuthn L3 §7.1 steps 10–11 and §7.2 steps 13–14 (`crossOrigin`, `topOrigin`): the approval
 * page is never framed (`frame-ancestors 'none'`), so a ceremony that claims to have run in a
 * cross-origin iframe is refused. The library checks `topOrigin` only for assertions, and
 * `crossOrigin` not at all.
 */
export function refuseCrossOrigin(clientDataJSON: unknown): void {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(String(clientDataJSON), "base64url").toString("utf8"));
  } catch {
    throw approvalInvalid("client data");
  }
  if (!isRecord(data) || data.crossOrigin === true || data.topOrigin !== undefined) {
    throw approvalInvalid("cross-origin ceremony");
  }
}
