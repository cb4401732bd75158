import { create } from "@bufbuild/protobuf";
import {
  type GetOperatorResponse,
  RegistryService,
  type VerifyOperatorDomainResponse,
} from "../../../../gen/gatehouse/v1/registry_pb.js";
import {
  DomainVerificationMethod,
  DomainVerificationState,
  type Operator,
  OperatorStatus,
} from "../../../../gen/gatehouse/v1/resources_pb.js";
import { legacyDnsRecordName, TXT_VALUE_PREFIX } from "../../../domains/locations.js";
import { legacyCaller } from "../caller.js";
import { readJsonObject } from "../json-body.js";
import { LegacyRefusal, methodNotAllowed } from "../refusal.js";
import type { Handler } from "./routes.js";

const { getOperator, verifyOperatorDomain } = RegistryService.method;

/** `/api/v1/operators/<domain>` and `/api/v1/operators/<domain>/verify`. */
const PATH = /^\/api\/v1\/operators\/([a-z0-9.-]{1,253})(\/verify)?$/;

const METHODS: Readonly<Record<string, DomainVerificationMethod>> = {
  dns: DomainVerificationMethod.DNS_TXT,
  https: DomainVerificationMethod.HTTPS_WELL_KNOWN,
};

/**
 * The Auth4Agent-style operator routes that map onto RegistryService: `GET
 * /api/v1/operators/<domain>` (GetOperator: where and what to publish, the TXT record under
 * `_auth4agents.<domain>` included) and `POST /api/v1/operators/<domain>/verify {method:
 * "dns"|"https"}` (VerifyOperatorDomain). A legacy operator authenticates as every operator
 * does: with its operator client certificate from Gatehouse's CA (URI SAN
 * `spiffe://<td>/operator/<domain>`), over the sidecar's mTLS; Gatehouse decides what it may
 * see. Undefined when the path is not one of these.
 */
export function operatorRoute(path: string): Handler | undefined {
  const match = PATH.exec(path);
  if (match === null) return undefined;
  const domain = match[1] ?? "";
  return async (req, _url, { upstream, maxBodyBytes, clientAddressOf }) => {
    const { address, certificatePem } = legacyCaller(req, clientAddressOf);
    if (certificatePem === undefined) {
      throw new LegacyRefusal(401, "an operator client certificate is required");
    }
    if (match[2] === undefined) {
      if (req.method !== "GET") throw methodNotAllowed("GET");
      const request = create(getOperator.input, { domain });
      const found = (await upstream.call(getOperator, request, {
        certificatePem,
        address,
      })) as GetOperatorResponse;
      return operatorJson(found.operator);
    }
    if (req.method !== "POST") throw methodNotAllowed("POST");
    const body = await readJsonObject(req, maxBodyBytes);
    const method = typeof body.method === "string" ? METHODS[body.method] : undefined;
    if (method === undefined) throw new LegacyRefusal(400, "method must be dns or https");
    const request = create(verifyOperatorDomain.input, { domain, method });
    const verified = (await upstream.call(verifyOperatorDomain, request, {
      certificatePem,
      address,
    })) as VerifyOperatorDomainResponse;
    return operatorJson(verified.operator);
  };
}

function operatorJson(operator: Operator | undefined) {
  if (operator === undefined) throw new LegacyRefusal(404, "operator not found");
  const verification = operator.verification;
  const token = verification?.token ?? "";
  return {
    domain: operator.domain,
    name: operator.displayName,
    status: OperatorStatus[operator.status].toLowerCase(),
    verified: verification?.state === DomainVerificationState.VERIFIED,
    ...(token === ""
      ? {}
      : {
          txt_records: [verification?.dnsRecordName, legacyDnsRecordName(operator.domain)],
          txt_value: `${TXT_VALUE_PREFIX}${token}`,
          https_url: verification?.httpsUrl,
        }),
  };
}
