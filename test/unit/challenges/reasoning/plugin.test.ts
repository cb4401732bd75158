import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it, onTestFinished } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind, ReasoningAnswerSchema } from "../../../../gen/gatehouse/v1/gate_pb.js";
import { createReasoningKind } from "../../../../src/challenges/reasoning/index.js";
import type { ChallengeRecord, IssueContext } from "../../../../src/challenges/types.js";
import { type ConfigOverrides, loadConfig } from "../../../../src/config/index.js";
import { SOLVERS } from "../../../support/reasoning-solvers/index.js";

const ISSUED_AT = 1_700_000_000_000;

function issueContext(reasoningFamily = ""): IssueContext {
  return {
    challengeId: "C".repeat(43),
    issuer: "https://gatehouse.test",
    defaultTtlMs: 60_000,
    preferences: { reasoningFamily },
    record: {
      kind: ChallengeKind.REASONING,
      did: "did:agent:example.com:00000000000000000000000000000000",
      caller: "f".repeat(64),
      scopes: ["orders:read"],
      audience: "https://api.example.com",
      issuedAt: ISSUED_AT,
    },
  };
}

function kind(overrides: ConfigOverrides = {}) {
  return createReasoningKind(loadConfig({ mode: "dev", env: {}, overrides }));
}

/** Issues one challenge and returns a way to submit answers to it. */
async function issued(family: string, overrides: ConfigOverrides = {}) {
  const plugin = kind(overrides);
  const context = issueContext(family);
  const challenge = await plugin.issue(context);
  if (challenge.body.case !== "reasoning") throw new Error("expected a reasoning body");
  const record: ChallengeRecord = {
    ...context.record,
    expiresAt: challenge.expiresAt,
    state: challenge.state,
  };
  const verifyContext = {
    challengeId: context.challengeId,
    issuer: context.issuer,
    record,
    agent: () => Promise.resolve(undefined),
  };
  const submit = (answer: string) =>
    plugin.verify(verifyContext, create(ReasoningAnswerSchema, { answer }));
  return { challenge, body: challenge.body.value, submit };
}

describe("the reasoning challenge kind", () => {
  it("issues the requested family and accepts its answer in any equivalent spelling", async () => {
    const { body, challenge, submit } = await issued("word-problem");
    // Four parts of ≥ 6 bits each: a blind guess is right at most 2^-24 of the time.
    expect(body).toMatchObject({ family: "word-problem", difficulty: 2 });
    expect(body.answerFormat).toBe(
      '4 answers in order, separated by " | " (part 1: an integer, e.g. 42 or -7; ' +
        "part 2: an integer, e.g. 42 or -7; part 3: an integer, e.g. 42 or -7; " +
        "part 4: an integer, e.g. 42 or -7)",
    );
    expect(challenge.expiresAt).toBe(ISSUED_AT + 20_000);
    const answer = SOLVERS["word-problem"](body.prompt);
    const numbers = answer.split(" | ").map(Number);
    expect(await submit(answer)).toBe(true);
    const spelled = numbers.map((n) => ` +${n.toLocaleString("en-US")}.0 `);
    expect(await submit(spelled.join("|"))).toBe(true);
    expect(await submit(spelled.join("\n"))).toBe(true);
    const [first = 0, ...rest] = numbers;
    expect(await submit([first + 1, ...rest].join(" | "))).toBe(false);
    expect(await submit(rest.join(" | "))).toBe(false);
  });

  it("keeps no answer in the stored state: only a digest salted with the challenge id", async () => {
    const { body, challenge } = await issued("string-edits");
    const answer = SOLVERS["string-edits"](body.prompt);
    expect(Object.keys(challenge.state).sort()).toEqual(["answerKind", "digest"]);
    expect(JSON.stringify(challenge.state)).not.toContain(answer);
  });

  it("chooses a family when none is asked for", async () => {
    const families = new Set<string>();
    for (let i = 0; i < 60; i++) families.add((await issued("")).body.family);
    expect(families.size).toBeGreaterThan(3);
  });

  it("refuses an unknown family, naming the field", async () => {
    await expect(kind().issue(issueContext("riddles"))).rejects.toMatchObject({
      reason: Reason.INVALID_ARGUMENT,
      field: "reasoning_family",
      description: "unknown reasoning family",
    });
  });

  it("applies per-family difficulty and deadline over the defaults", async () => {
    const overrides: ConfigOverrides = {
      challenges: {
        reasoningDifficulty: 4,
        reasoningDeadlineSeconds: 30,
        reasoningFamilies: { "table-query": { difficulty: 1, deadlineSeconds: 8 } },
      },
    };
    const table = await issued("table-query", overrides);
    expect(table.body.difficulty).toBe(1);
    expect(table.challenge.expiresAt).toBe(ISSUED_AT + 8_000);
    const other = await issued("scoring-spec", overrides);
    expect(other.body.difficulty).toBe(4);
    expect(other.challenge.expiresAt).toBe(ISSUED_AT + 30_000);
  });
});

describe("reasoning configuration", () => {
  function writeToml(text: string): string {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-reasoning-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "gatehouse.toml");
    writeFileSync(file, text);
    return file;
  }

  it("reads defaults, the environment and the per-family file table", () => {
    const file = writeToml(
      "[challenges.reasoning_families.program-trace]\ndifficulty = 3\ndeadline_seconds = 10\n",
    );
    const env = { GATEHOUSE_REASONING_DIFFICULTY: "5", GATEHOUSE_REASONING_DEADLINE: "45" };
    const { challenges } = loadConfig({ mode: "dev", file, env });
    expect(challenges).toMatchObject({
      reasoningDifficulty: 5,
      reasoningDeadlineSeconds: 45,
      reasoningFamilies: { "program-trace": { difficulty: 3, deadlineSeconds: 10 } },
    });
    expect(loadConfig({ mode: "dev", env: {} }).challenges).toMatchObject({
      reasoningDifficulty: 2,
      reasoningDeadlineSeconds: 20,
      reasoningFamilies: {},
    });
  });

  it("reports every problem clearly", () => {
    const file = writeToml(
      [
        "[challenges.reasoning_families.riddles]",
        "difficulty = 1",
        "[challenges.reasoning_families.table-query]",
        "difficulty = 9",
        "deadline = 5",
      ].join("\n"),
    );
    const problems = (() => {
      try {
        loadConfig({ mode: "dev", file, env: { GATEHOUSE_REASONING_DIFFICULTY: "0" } });
      } catch (error) {
        return (error as { problems: string[] }).problems.join("\n");
      }
      return "";
    })();
    expect(problems).toContain('unknown reasoning family "riddles"');
    expect(problems).toContain("table-query.difficulty: must be an integer 1..5");
    expect(problems).toContain('table-query: unknown key "deadline"');
    expect(problems).toContain("GATEHOUSE_REASONING_DIFFICULTY: must be an integer 1..5");
  });
});
