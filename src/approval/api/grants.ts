import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../../errors/index.js";
import { grantState } from "../../grants/lifecycle.js";
import type { ApproverRecord, GrantRecord } from "../../store/ports.js";
import type { ApprovalContext, Call, SignedIn } from "../context.js";
import { json, type Reply } from "../http/response.js";
import { grantView } from "../view/grant.js";

/** The most pending grants one page lists (newest first); the pending limit keeps it small. */
const MAX_LISTED = 100;

/** `GET /approve/api/grants`: the pending, unexpired grants of the approver's operator. */
export function listGrants(ctx: ApprovalContext) {
  return async (_call: Call, { approver }: SignedIn): Promise<Reply> => {
    const now = ctx.clock.now();
    const page = await ctx.store.grants.list({
      operatorDomain: approver.operatorDomain,
      state: "pending",
      limit: MAX_LISTED,
    });
    const pending = page.grants.filter((grant) => grantState(grant, now) === "pending");
    const grants = await Promise.all(
      pending.map(async (grant) =>
        grantView(grant, await ctx.store.registry.getAgent(grant.agentDid)),
      ),
    );
    return json({ grants });
  };
}

/**
 * A grant the approver may decide: one of their operator's. Another operator's grant is
 * reported as not found, so approvers learn nothing about other operators.
 */
export async function grantOfOperator(
  ctx: ApprovalContext,
  id: string | undefined,
  approver: ApproverRecord,
): Promise<GrantRecord> {
  const grant = id === undefined ? undefined : await ctx.store.grants.get(id);
  if (!grant || grant.operatorDomain !== approver.operatorDomain) {
    throw new GatehouseError(Reason.GRANT_NOT_FOUND);
  }
  return grant;
}
