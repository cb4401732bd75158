/**
 * Revocation propagation across two replicas on one Redis: for each of `revocations` tokens,
 * Verify on replica B until it is allowed (twice, so any decision cache B keeps is warm),
 * then Revoke the token (by `jti`) on replica A while sending a Verify to B every
 * `revocationPollMs` (without waiting for the previous answer, at most MAX_POLLS_IN_FLIGHT,
 * so the sampling period does not depend on B's latency) until B denies it. Timed from the
 * moment Revoke is sent, and from the moment A acknowledged it (0 when B already denied
 * before the acknowledgement arrived).
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { RegistryService } from "../../gen/gatehouse/v1/registry_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { describeError } from "../async-load.js";
import { AUDIENCE, SCOPE } from "../enroll.js";
import { Histogram } from "../histogram.js";
import { openChannels } from "../load.js";
import { round } from "../report.js";
import type { Settings } from "../settings.js";
import { tokenClaims } from "./login.js";

export interface Distribution {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

export interface RevocationSummary {
  /** Trials (one token each); correct = allowed on B before, denied TOKEN_REVOKED after. */
  readonly sent: number;
  readonly correct: number;
  readonly errors: number;
  readonly errorKinds: Record<string, number>;
  /** Revoke sent on A → first denial seen on B (its answer received). */
  readonly fromRevokeSent: Distribution;
  /** Revoke sent on A → the first poll B denied was sent: RTT-free, to within a poll period. */
  readonly firstDeniedPoll: Distribution;
  /** Trials in which B allowed a poll sent after A acknowledged the Revoke; by how much. */
  readonly allowedAfterAck: number;
  readonly staleAfterAck: Distribution;
  /** Revoke acknowledged by A → first denial seen on B (0 if B denied first). */
  readonly fromRevokeAck: Distribution;
  /** The Revoke RPC itself, on A. */
  readonly revokeRpc: Distribution;
  /** Trials in which B denied before A's acknowledgement arrived. */
  readonly deniedBeforeAck: number;
  /** Verify calls made on B while revoking, and the mean time between two sent. */
  readonly polls: number;
  readonly pollPeriodMs: number;
}

export interface Replicas {
  /** `host:port` of replica A (Revoke) and B (Verify). */
  readonly a: string;
  readonly b: string;
  /** Admin (Revoke) and verifier (Verify) client certificates. */
  readonly adminTls: ClientTls;
  readonly verifierTls: ClientTls;
}

export async function measureRevocation(
  settings: Settings,
  replicas: Replicas,
  tokens: readonly string[],
  did: string,
): Promise<RevocationSummary> {
  const [adminChannel] = await openChannels(replicas.a, replicas.adminTls, 1);
  const [verifyChannel] = await openChannels(replicas.b, replicas.verifierTls, 1);
  if (!adminChannel || !verifyChannel) throw new Error("no channel");
  const registry = createGrpcClient(RegistryService, {
    address: replicas.a,
    tls: replicas.adminTls,
    channel: adminChannel,
  });
  const verifier = createGrpcClient(VerifyService, {
    address: replicas.b,
    tls: replicas.verifierTls,
    channel: verifyChannel,
  });
  const fromSent = new Histogram();
  const firstDeniedPoll = new Histogram();
  const staleAfterAck = new Histogram();
  let allowedAfterAck = 0;
  const fromAck = new Histogram();
  const revokeRpc = new Histogram();
  const errorKinds = new Map<string, number>();
  const fail = (kind: string): void => {
    errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
  };
  let correct = 0;
  let deniedBeforeAck = 0;
  let polls = 0;
  let pollIntervals = 0;
  let pollingMs = 0;

  const trial = async (token: string) => {
    const jti = tokenClaims(token)?.jti;
    if (typeof jti !== "string") return fail("token without a jti");
    const verify = () => verifier.verify({ token, audience: AUDIENCE, requiredScopes: [SCOPE] });
    for (let i = 0; i < 2; i++) {
      const before = await verify();
      if (!before.allowed || before.agentDid !== did) {
        return fail(`not allowed on B before revoking: ${Reason[before.reason]}`);
      }
    }
    const sentAt = performance.now();
    let ackAt: number | undefined;
    const revoking = registry
      .revoke({ target: { case: "tokenId", value: jti }, reason: "bench" })
      .then(() => {
        ackAt = performance.now();
      });
    revoking.catch(() => {}); // awaited below
    const seen = await pollUntilDenied(verify, sentAt, settings);
    polls += seen.polls;
    pollIntervals += seen.polls - 1;
    pollingMs += seen.lastSentAt - sentAt;
    await revoking;
    if (ackAt === undefined) return fail("revoke: no acknowledgement");
    revokeRpc.record(ackAt - sentAt);
    if (seen.failure !== undefined) return fail(seen.failure);
    if (seen.denied === undefined) {
      return fail(`still allowed on B ${settings.revocationTimeoutMs} ms after Revoke`);
    }
    const { sentAt: deniedSentAt, seenAt, reason } = seen.denied;
    if (reason !== Reason.TOKEN_REVOKED) return fail(`denied on B, but ${Reason[reason]}`);
    if (seen.lastAllowedSentAt > ackAt) {
      allowedAfterAck += 1;
      staleAfterAck.record(seen.lastAllowedSentAt - ackAt);
    }
    if (seenAt < ackAt) deniedBeforeAck += 1;
    correct += 1;
    fromSent.record(seenAt - sentAt);
    firstDeniedPoll.record(deniedSentAt - sentAt);
    fromAck.record(Math.max(0, seenAt - ackAt));
  };

  try {
    // A freshly started B: let its JIT warm up on Verify before anything is timed.
    const first = tokens[0];
    for (let i = 0; first !== undefined && i < WARMUP_VERIFIES; i++) {
      await verifier.verify({ token: first, audience: AUDIENCE, requiredScopes: [SCOPE] });
    }
    for (const token of tokens) await trial(token).catch((error) => fail(describeError(error)));
  } finally {
    adminChannel.close();
    verifyChannel.close();
  }
  return {
    sent: tokens.length,
    correct,
    errors: tokens.length - correct,
    errorKinds: Object.fromEntries(errorKinds),
    fromRevokeSent: distribution(fromSent),
    firstDeniedPoll: distribution(firstDeniedPoll),
    allowedAfterAck,
    staleAfterAck: distribution(staleAfterAck),
    fromRevokeAck: distribution(fromAck),
    revokeRpc: distribution(revokeRpc),
    deniedBeforeAck,
    polls,
    pollPeriodMs: round(pollingMs / Math.max(1, pollIntervals), 3),
  };
}

function distribution(histogram: Histogram): Distribution {
  return {
    p50Ms: round(histogram.percentileMs(50), 3),
    p99Ms: round(histogram.percentileMs(99), 3),
    maxMs: round(histogram.maxMs, 3),
    meanMs: round(histogram.meanMs, 3),
  };
}

const MAX_POLLS_IN_FLIGHT = 8;
const WARMUP_VERIFIES = 500;

interface PollOutcome {
  readonly polls: number;
  readonly lastSentAt: number;
  /** When the last poll that B still allowed was sent (`start` if none). */
  readonly lastAllowedSentAt: number;
  /** The earliest-sent poll B denied, when that answer arrived, and why. */
  readonly denied?: { readonly sentAt: number; readonly seenAt: number; readonly reason: Reason };
  /** A poll that failed (an RPC error): the trial is an error. */
  readonly failure?: string;
}

/** A Verify every `revocationPollMs` from `start`, until one is denied or the timeout. */
async function pollUntilDenied(
  verify: () => Promise<{ allowed: boolean; reason: Reason }>,
  start: number,
  settings: Settings,
): Promise<PollOutcome> {
  let polls = 0;
  let lastSentAt = start;
  let lastAllowedSentAt = start;
  let denied: PollOutcome["denied"];
  const inFlight = new Set<Promise<void>>();
  let failure: string | undefined;
  const poll = async (sentAt: number) => {
    const response = await verify().catch((error) => {
      failure ??= `poll: ${describeError(error)}`;
    });
    if (!response) return;
    if (response.allowed) {
      lastAllowedSentAt = Math.max(lastAllowedSentAt, sentAt);
    } else if (denied === undefined || sentAt < denied.sentAt) {
      denied = { sentAt, seenAt: denied?.seenAt ?? performance.now(), reason: response.reason };
    }
  };
  const done = () => denied !== undefined || failure !== undefined;
  while (!done() && performance.now() - start < settings.revocationTimeoutMs) {
    if (inFlight.size >= MAX_POLLS_IN_FLIGHT) {
      await Promise.race(inFlight);
      continue;
    }
    lastSentAt = performance.now();
    polls += 1;
    const pending = poll(lastSentAt).finally(() => inFlight.delete(pending));
    inFlight.add(pending);
    await sleep(settings.revocationPollMs);
  }
  await Promise.all(inFlight);
  return {
    polls,
    lastSentAt,
    lastAllowedSentAt,
    ...(denied && { denied }),
    ...(failure !== undefined && { failure }),
  };
}
