import type { IncomingHttpHeaders } from "node:http";
import { request } from "node:https";
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import type { Grant } from "../../gen/gatehouse/v1/resources_pb.js";
import { type Enrolled, grpcClients } from "./flows.js";
import type { TestGatehouse } from "./gatehouse.js";
import { rememberSecret } from "./secrets.js";
import {
  createSoftAuthenticator,
  type SoftAuthenticator,
  type Tampering,
} from "./soft-authenticator.js";

const SESSION_COOKIE = "__Host-gatehouse_approve";

export interface ApiResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The parsed JSON body ({} when the body is not JSON). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read whichever fields they assert on
  readonly body: any;
}

export interface RequestOptions {
  /** A JSON value, or a raw string sent as is. */
  readonly body?: unknown;
  /** Added to (or, when undefined, removed from) the headers a browser would send. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
}

/** The response of a WebAuthn options call. */
interface Ceremony<T> {
  readonly ticket: string;
  readonly options: T;
}

/**
 * A client of the approval page's JSON API over real HTTPS, behaving like the page in a
 * browser: it sends the page's `Origin`, keeps the session cookie, sends the CSRF token on
 * POSTs, and answers passkey ceremonies with a software authenticator. Every secret it sees
 * (invite, tickets, session id, CSRF token) is remembered for the log scan.
 */
export class ApprovalClient {
  readonly origin: string;
  readonly authenticator: SoftAuthenticator;
  private cookie: string | undefined;
  private csrfToken: string | undefined;

  constructor(
    private readonly gh: TestGatehouse,
    authenticator?: SoftAuthenticator,
  ) {
    const origin = gh.app.approvalOrigin;
    if (!origin) throw new Error("the approval page is disabled");
    this.origin = origin;
    this.authenticator = authenticator ?? createSoftAuthenticator(origin);
  }

  get(path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.send("GET", path, options);
  }

  post(path: string, body: unknown = {}, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.send("POST", path, { ...options, body });
  }

  /** Redeems the invite link and registers a passkey; resolves with the verify response. */
  async enroll(inviteUrl: string, tampering?: Tampering): Promise<ApiResponse> {
    const invite = new URL(inviteUrl).hash.slice(1);
    rememberSecret(invite);
    const started = expectOk(await this.post("/approve/api/enroll/options", { invite }));
    const { ticket, options } = started.body as Ceremony<PublicKeyCredentialCreationOptionsJSON>;
    rememberSecret(ticket);
    const response = this.authenticator.register(options, tampering);
    return this.signedIn(await this.post("/approve/api/enroll/verify", { ticket, response }));
  }

  /** Signs in with the newest passkey; resolves with the verify response. */
  async login(tampering?: Tampering): Promise<ApiResponse> {
    const started = expectOk(await this.post("/approve/api/login/options"));
    const { ticket, options } = started.body as Ceremony<PublicKeyCredentialRequestOptionsJSON>;
    rememberSecret(ticket);
    const response = this.authenticator.assert(options, tampering);
    return this.signedIn(await this.post("/approve/api/login/verify", { ticket, response }));
  }

  /** Starts a decision ceremony (must succeed). */
  async decisionOptions(
    grantId: string,
    decision: "approve" | "deny",
  ): Promise<Ceremony<PublicKeyCredentialRequestOptionsJSON>> {
    const started = expectOk(
      await this.post(`/approve/api/grants/${grantId}/options`, { decision }),
    );
    rememberSecret(started.body.ticket);
    return started.body;
  }

  /** Decides a grant: options, a passkey assertion (tampered as asked), decide. */
  async decide(
    grantId: string,
    decision: "approve" | "deny",
    tampering?: Tampering,
  ): Promise<ApiResponse> {
    const { ticket, options } = await this.decisionOptions(grantId, decision);
    const response = this.authenticator.assert(options, tampering);
    return this.post(`/approve/api/grants/${grantId}/decide`, { ticket, response });
  }

  private async signedIn(response: ApiResponse): Promise<ApiResponse> {
    if (response.status === 200) {
      const session = expectOk(await this.get("/approve/api/session"));
      this.csrfToken = session.body.csrfToken;
      rememberSecret(session.body.csrfToken);
    }
    return response;
  }

  private async send(method: string, path: string, options: RequestOptions) {
    const body =
      options.body === undefined
        ? undefined
        : Buffer.from(
            typeof options.body === "string" ? options.body : JSON.stringify(options.body),
          );
    const headers: Record<string, string | undefined> = {
      origin: this.origin,
      ...(this.cookie && { cookie: `${SESSION_COOKIE}=${this.cookie}` }),
      ...(method === "POST" && this.csrfToken && { "x-csrf-token": this.csrfToken }),
      ...(body && { "content-type": "application/json" }),
      ...options.headers,
    };
    const response = await httpsRequest(this.gh, new URL(path, this.origin), method, headers, body);
    this.keepCookie(response.headers["set-cookie"]);
    return response;
  }

  private keepCookie(setCookie: readonly string[] | undefined): void {
    const cookie = setCookie?.find((line) => line.startsWith(`${SESSION_COOKIE}=`));
    if (cookie === undefined) return;
    const value = cookie.slice(SESSION_COOKIE.length + 1).split(";")[0] ?? "";
    if (value !== "") rememberSecret(value);
    this.cookie = value === "" ? undefined : value;
    if (value === "") this.csrfToken = undefined;
  }
}

/** Fails with the response's body when it is not a 200. */
export function expectOk(response: ApiResponse): ApiResponse {
  if (response.status !== 200) {
    throw new Error(`approval API answered ${response.status}: ${response.text}`);
  }
  return response;
}

/**
 * The whole human side of a decision, as the lead's grant tests use it: the agent's operator
 * invites an approver, who enrolls a passkey and decides the grant on the approval page.
 * Resolves with the grant as GetGrant returns it afterwards.
 */
export async function decideGrant(
  gh: TestGatehouse,
  agent: Enrolled,
  grantId: string,
  decision: "approve" | "deny",
): Promise<Grant> {
  const operator = grpcClients(gh, agent.operatorTls);
  try {
    const { inviteUrl } = await operator.grants.createApproverInvite({
      displayName: "Test approver",
    });
    const client = new ApprovalClient(gh);
    expectOk(await client.enroll(inviteUrl));
    expectOk(await client.decide(grantId, decision));
    const { grant } = await operator.grants.getGrant({ id: grantId });
    if (!grant) throw new Error("GetGrant returned no grant");
    return grant;
  } finally {
    operator.close();
  }
}

/**
 * One HTTPS request to the approval listener (bound on 127.0.0.1), checking its certificate
 * against the test CA for the origin's host name.
 */
function httpsRequest(
  gh: TestGatehouse,
  url: URL,
  method: string,
  headers: Record<string, string | undefined>,
  body: Buffer | undefined,
): Promise<ApiResponse> {
  const sent = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: url.port,
        servername: url.hostname,
        ca: gh.caPem,
        method,
        path: url.pathname,
        headers: { ...sent, ...(body && { "content-length": String(body.length) }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parse(text) });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
