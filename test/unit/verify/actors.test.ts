import { describe, expect, it } from "vitest";
import { actClaim, actorChain, MAX_DELEGATION_DEPTH } from "../../../src/verify/actors.js";

describe("RFC 8693 §4.1 `act` chains", () => {
  it("reads the actors current first, and builds the same claim back", () => {
    const act = { sub: "did:c", act: { sub: "did:b", act: { sub: "did:a" } } };
    expect(actorChain(act)).toEqual(["did:c", "did:b", "did:a"]);
    expect(actClaim(["did:c", "did:b", "did:a"])).toEqual(act);
    expect(actClaim([])).toBeUndefined();
  });

  it("ignores other members of an actor, as §4.1 allows", () => {
    expect(actorChain({ sub: "did:a", iss: "https://elsewhere" })).toEqual(["did:a"]);
  });

  it("refuses shapes that are not a chain of actors with a `sub`", () => {
    for (const act of [
      null,
      "did:a",
      ["did:a"],
      {},
      { sub: "" },
      { sub: 7 },
      { sub: "did:a", act: 1 },
    ]) {
      expect(actorChain(act)).toBeUndefined();
    }
  });

  it("refuses a chain deeper than MAX_DELEGATION_DEPTH", () => {
    const actors = Array.from({ length: MAX_DELEGATION_DEPTH }, (_, i) => `did:${i}`);
    expect(actorChain(actClaim(actors))).toEqual(actors);
    expect(actorChain(actClaim([...actors, "did:deep"]))).toBeUndefined();
  });
});
