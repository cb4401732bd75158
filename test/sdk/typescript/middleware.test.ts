import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Agent, createAgent, dpopProof } from "../../../clients/typescript/src/agent/index.js";
import { fromConnectError } from "../../../clients/typescript/src/errors.js";
import {
  GatehouseClientError,
  Reason,
  VerifyService,
} from "../../../clients/typescript/src/index.js";
import {
  createJwksKeySet,
  createVerifier,
  type ExpressResponseLike,
  type FastifyReplyLike,
  type GatehouseRequest,
  gatehouseExpress,
  gatehouseFastify,
  gatehouseInterceptor,
  gatehouseToken,
  httpJwksSource,
  type Verifier,
} from "../../../clients/typescript/src/verifier/index.js";
import { AUDIENCE, recordingGate } from "../../support/flows.js";
import { ISSUER } from "../../support/gatehouse.js";
import { type SdkEnvironment, startSdkEnvironment } from "./support/environment.js";

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Express's response methods over node:http (what the middleware relies on, nothing more). */
function expressResponse(res: ServerResponse): ExpressResponseLike {
  const response: ExpressResponseLike = {
    status: (code) => {
      res.statusCode = code;
      return response;
    },
    set: (headers) => {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      return response;
    },
    json: (body) => res.setHeader("content-type", "application/json").end(JSON.stringify(body)),
  };
  return response;
}

/** Fastify's reply methods over node:http. */
function fastifyReply(res: ServerResponse): FastifyReplyLike {
  const reply: FastifyReplyLike = {
    code: (status) => {
      res.statusCode = status;
      return reply;
    },
    headers: (values) => {
      for (const [name, value] of Object.entries(values)) res.setHeader(name, value);
      return reply;
    },
    send: (payload) => res.end(JSON.stringify(payload)),
  };
  return reply;
}

describe("TypeScript SDK verifier middleware", () => {
  let env: SdkEnvironment;
  let verifier: Verifier;
  let agent: Agent;
  const servers: Server[] = [];

  beforeAll(async () => {
    env = await startSdkEnvironment();
    verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: createJwksKeySet({ source: httpJwksSource(env.jwksUri, { ca: env.t.gh.caPem }) }),
    });
    agent = createAgent({
      key: env.agent.key,
      did: env.agent.did,
      gate: recordingGate(env.gate),
      scopes: ["orders:read"],
      audience: AUDIENCE,
      tokenEndpoint: env.tokenEndpoint,
    });
  });
  afterAll(async () => {
    for (const server of servers) server.close();
    await env?.close();
  });

  /** A service whose every request passes `guard` first. */
  async function service(
    guard: (req: IncomingMessage, res: ServerResponse, publicUrl: string) => Promise<boolean>,
  ): Promise<string> {
    let publicUrl = "";
    const server = createServer((req, res) => {
      guard(req, res, publicUrl).then((allowed) => {
        if (allowed) res.end(JSON.stringify((req as GatehouseRequest).gatehouse));
      });
    });
    servers.push(server);
    publicUrl = await listen(server);
    return publicUrl;
  }

  it.each(["express", "fastify"] as const)(
    "%s: allows a bound token with its proof, refuses with a challenge",
    async (kind) => {
      const url = await service((req, res, publicUrl) => {
        const options = { publicUrl, requiredScopes: ["orders:read"] };
        if (kind === "fastify") {
          return gatehouseFastify(verifier, options)(req, fastifyReply(res)).then(
            () => (req as GatehouseRequest).gatehouse !== undefined,
          );
        }
        return new Promise((resolve) => {
          gatehouseExpress(verifier, options)(req, expressResponse(res), () => resolve(true));
          res.on("finish", () => resolve(false));
        });
      });
      const allowed = await agent.fetch(`${url}/orders/1`);
      expect(allowed.status).toBe(200);
      expect(await allowed.json()).toMatchObject({ agentDid: env.agent.did, source: "offline" });

      const anonymous = await fetch(`${url}/orders/1`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("www-authenticate")).toBe(
        `Bearer realm="${url}", scope="orders:read"`,
      );
      expect(await anonymous.json()).toEqual({
        error: "caller identity required",
        reason: "UNAUTHENTICATED",
      });

      // The token without its proof: a bound token used as a bearer one (RFC 9449 §7.2).
      const { accessToken } = await agent.token();
      const unproven = await fetch(`${url}/orders/1`, {
        headers: { authorization: `DPoP ${accessToken}` },
      });
      expect(unproven.status).toBe(401);
      expect(unproven.headers.get("www-authenticate")).toContain('error="invalid_token"');
      expect(((await unproven.json()) as { reason: string }).reason).toBe("TOKEN_BOUND_TO_KEY");
    },
  );

  it("connect: the interceptor verifies each call and hands the token to the handler", async () => {
    let publicUrl = "";
    const seen: string[] = [];
    const handler = connectNodeAdapter({
      interceptors: [
        // The public URL is the listener's, known once it listens.
        (next) => (request) => gatehouseInterceptor(verifier, { publicUrl })(next)(request),
      ],
      routes: (router) =>
        router.service(VerifyService, {
          getJwks: (_request, context) => {
            seen.push(context.values.get(gatehouseToken)?.agentDid ?? "none");
            return { keys: [], cacheMaxAgeSeconds: 1 };
          },
        }),
    });
    const server = createServer(handler);
    servers.push(server);
    publicUrl = await listen(server);
    const { accessToken } = await agent.token();
    // The client side: the agent's token and a proof for this call's URL and method.
    const attach: Interceptor = (next) => (request) => {
      request.header.set("authorization", `DPoP ${accessToken}`);
      request.header.set(
        "dpop",
        dpopProof(env.agent.key, { htm: "POST", htu: request.url, accessToken }),
      );
      return next(request);
    };
    const transport = createConnectTransport({
      baseUrl: publicUrl,
      httpVersion: "1.1",
      interceptors: [attach],
    });
    const client = createClient(VerifyService, transport);
    expect((await client.getJwks({})).cacheMaxAgeSeconds).toBe(1);
    expect(seen).toEqual([env.agent.did]);

    const bare = createClient(
      VerifyService,
      createConnectTransport({ baseUrl: publicUrl, httpVersion: "1.1" }),
    );
    const refusal = fromConnectError(await bare.getJwks({}).catch((error: unknown) => error));
    expect(refusal).toBeInstanceOf(GatehouseClientError);
    expect((refusal as GatehouseClientError).reason).toBe(Reason.UNAUTHENTICATED);
    expect(seen).toHaveLength(1);
  });
});
