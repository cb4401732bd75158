import type { MessageInitShape } from "@bufbuild/protobuf";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type {
  ListGrantsRequest,
  ListGrantsResponseSchema,
} from "../../../gen/gatehouse/v1/grants_pb.js";
import { GrantState } from "../../../gen/gatehouse/v1/resources_pb.js";
import { GatehouseError, invalidArgument } from "../../errors/index.js";
import { toGrantMessage } from "../../grants/convert.js";
import type { Caller } from "../../identity/caller.js";
import type { GrantListQuery, GrantStore, GrantStoredState } from "../../store/ports.js";

const DEFAULT_PAGE_SIZE = 50;

/**
 * A page of grants the caller may see: agents their own, operators their domain's, admins
 * any (filtered as asked). EXPIRED is derived from the clock, so it is filtered after
 * reading (a page may then hold fewer than page_size; the token continues the walk).
 */
export async function listGrants(
  grants: Pick<GrantStore, "list">,
  caller: Caller,
  request: ListGrantsRequest,
  nowMs: number,
): Promise<MessageInitShape<typeof ListGrantsResponseSchema>> {
  const scope = visibleScope(caller, request);
  const stored = STORED_STATE[request.state];
  const cursor = decodeCursor(request.pageToken);
  const query: GrantListQuery = {
    ...scope,
    limit: request.pageSize || DEFAULT_PAGE_SIZE,
    ...(stored !== undefined && { state: stored }),
    ...(cursor !== undefined && { cursor }),
  };
  const page = await grants.list(query);
  const wanted = request.state === GrantState.UNSPECIFIED ? undefined : request.state;
  const shown = page.grants
    .map((grant) => toGrantMessage(grant, nowMs))
    .filter((grant) => wanted === undefined || grant.state === wanted);
  return { grants: shown, nextPageToken: encodeCursor(page.nextCursor) };
}

/** The stored state to ask the store for; EXPIRED grants are stored as pending or approved. */
const STORED_STATE: Readonly<Partial<Record<GrantState, GrantStoredState>>> = {
  [GrantState.PENDING]: "pending",
  [GrantState.APPROVED]: "approved",
  [GrantState.DENIED]: "denied",
  [GrantState.REVOKED]: "revoked",
};

function visibleScope(
  caller: Caller,
  request: ListGrantsRequest,
): Pick<GrantListQuery, "agentDid" | "operatorDomain"> {
  const agentDid = request.agentDid || undefined;
  const operatorDomain = request.operatorDomain || undefined;
  if (caller.role === "agent") {
    if (agentDid !== undefined && agentDid !== caller.did) {
      throw new GatehouseError(Reason.PERMISSION_DENIED, { field: "agent_did" });
    }
    if (operatorDomain !== undefined) {
      throw new GatehouseError(Reason.PERMISSION_DENIED, { field: "operator_domain" });
    }
    return { agentDid: caller.did ?? "" };
  }
  if (caller.role === "operator") {
    if (operatorDomain !== undefined && operatorDomain !== caller.operatorDomain) {
      throw new GatehouseError(Reason.OPERATOR_MISMATCH, { field: "operator_domain" });
    }
    return {
      operatorDomain: caller.operatorDomain ?? "",
      ...(agentDid !== undefined && { agentDid }),
    };
  }
  return {
    ...(operatorDomain !== undefined && { operatorDomain }),
    ...(agentDid !== undefined && { agentDid }),
  };
}

/** Page tokens are base64url of the store's cursor; anything else is refused. */
function encodeCursor(cursor: string | undefined): string {
  return cursor === undefined ? "" : Buffer.from(cursor, "utf8").toString("base64url");
}

function decodeCursor(token: string): string | undefined {
  if (token === "") return undefined;
  const cursor = Buffer.from(token, "base64url").toString("utf8");
  if (!/^[\x21-\x7e]{1,300}$/.test(cursor)) {
    throw invalidArgument("page_token", "is not a token this server issued");
  }
  return cursor;
}
