import { GateService } from "../../../gen/gatehouse/v1/gate_pb.js";
import { bindService, type ServiceBinding } from "../types.js";
import { issueChallenge } from "./challenge.js";
import type { GateDeps } from "./deps.js";
import { submitAnswer } from "./submit.js";
import { issueToken } from "./token/index.js";

export type { GateDeps, GateSettings } from "./deps.js";

export function createGateService(deps: GateDeps): ServiceBinding {
  return bindService(GateService, {
    challenge: (request, call) => issueChallenge(deps, request, call),
    submit: (request, call) => submitAnswer(deps, request, call),
    token: (request, call) => issueToken(deps, request, call),
  });
}
