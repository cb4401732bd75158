import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "node:tls";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CapabilityAction, GrantState } from "../../gen/gatehouse/v1/resources_pb.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE, type Clients, grpcClients, SCOPES } from "../support/flows.js";
import { ARTIFACTS, rememberSecret } from "../support/secrets.js";

/** Debian's Chromium; CI installs it. Never skipped: a missing browser fails the suite. */
const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = join(ARTIFACTS, "approval-page.png");

/**
 * Chromium trusts exactly this server's key, nothing more: the base64 SHA-256 of the
 * SubjectPublicKeyInfo of the certificate the approval listener serves (checked here against
 * the test CA), for `--ignore-certificate-errors-spki-list`. Chromium then treats the
 * certificate as valid (no interstitial, a secure context, which WebAuthn requires), while
 * the server serves exactly as in production.
 */
async function servedKeyPin(origin: string, caPem: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  const socket = connect({
    host: "127.0.0.1",
    port: Number(port),
    servername: hostname,
    ca: caPem,
  });
  await once(socket, "secureConnect");
  const certificate = socket.getPeerX509Certificate();
  socket.destroy();
  if (!certificate) throw new Error("the approval listener sent no certificate");
  const spki = certificate.publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

describe("Approval page in a real browser", () => {
  const fx = useGatehouse();
  let browser: Browser;
  let operator: Clients;

  beforeAll(async () => {
    operator = grpcClients(fx.gh, fx.agent.operatorTls);
    const pin = await servedKeyPin(fx.gh.app.approvalOrigin ?? "", fx.gh.caPem);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [`--ignore-certificate-errors-spki-list=${pin}`],
    });
  });
  afterAll(async () => {
    await browser?.close();
    operator?.close();
  });

  it("registers a passkey from the invite link and approves a grant with it", async () => {
    await operator.registry.updateAgentPolicy({
      did: fx.agent.did,
      policy: {
        scopes: SCOPES,
        audiences: [AUDIENCE],
        envelope: { maxTransaction: { currency: "EUR", minorUnits: 25_000n } },
      },
    });
    const { grant } = await fx.clients.grants.requestGrant({
      audience: AUDIENCE,
      capabilities: [{ action: CapabilityAction.TRANSACT, resource: "payments/eur" }],
      reason: "Pay the supplier's invoice <b>2026-114</b>",
      duration: { seconds: 3_600n },
    });
    const grantId = grant?.id ?? "";
    const { inviteUrl } = await operator.grants.createApproverInvite({ displayName: "Ada" });
    rememberSecret(new URL(inviteUrl).hash.slice(1));

    const context = await browser.newContext();
    const page = await context.newPage();
    // Chromium's own virtual authenticator (CDP WebAuthn domain): a real ceremony end to end.
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    try {
      await page.goto(inviteUrl);
      expect(page.url()).not.toContain("#"); // the invite left the address bar at once
      await page.getByRole("button", { name: "Register a passkey" }).click();
      await page.waitForURL(`${fx.gh.app.approvalOrigin}/approve`);

      const card = page.locator(".grant").filter({ hasText: fx.agent.did });
      await expect.poll(() => card.count()).toBe(1);
      const text = await card.innerText();
      expect(text).toContain("Request from test agent");
      expect(text).toContain("transact on payments/eur");
      expect(text).toContain(AUDIENCE);
      expect(text).toContain("1 hour once approved");
      expect(text).toContain("at most EUR 250.00 per transaction");
      // The reason is text: its markup is shown, not rendered.
      expect(text).toContain("Pay the supplier's invoice <b>2026-114</b>");
      expect(await card.locator("b").count()).toBe(0);

      await card.getByRole("button", { name: "Approve" }).click();
      await expect.poll(() => card.locator(".outcome").innerText()).toMatch(/^Approved by Ada/);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    } finally {
      await context.close();
    }

    const decided = await operator.grants.getGrant({ id: grantId });
    expect(decided.grant?.state).toBe(GrantState.APPROVED);
    expect(decided.grant?.decidedBy).toMatch(/^Ada \(/);
  }, 60_000);
});
