/**
 * Writes the source of src/challenges/iterated-hash/sha256-digest.generated.ts: SHA-256 of a
 * 32-byte message (a digest) as one straight run of statements, with what the fixed message
 * shape makes constant folded in. `npm run generate:sha256` writes it; a unit test checks the
 * committed file is this function's output.
 *
 * Why generated: the iterated-hash check spends all its time here, and V8 runs this
 * straight-line form in about half the CPU time of the same steps in loops over typed arrays
 * (no bounds checks, the schedule in registers, no moves of the working variables; measured
 * with the looped, 16-way and 8-way unrolled variants side by side, see
 * bench/scenarios/iterated-hash.ts). Writing 64 rounds by hand invites typos that this
 * program cannot make; what it writes is also checked against node:crypto.
 */

/** FIPS 180-4 §4.2.2: the SHA-256 round constants. */
const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
/** FIPS 180-4 §5.3.3: the initial hash value H(0). */
const H0 = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
] as const;
/** FIPS 180-4 §5.1.1: a 256-bit message is padded with the bit 1, zeros, and its length. */
const PADDING = [0x80000000, 0, 0, 0, 0, 0, 0, 256];

/** A 32-bit word while generating: a constant (folded) or the name of a local. */
type Word = number | string;

/** A constant as a signed 32-bit hex literal, the form V8 adds as a machine word. */
function literal(value: number): string {
  const signed = value | 0;
  return signed < 0 ? `-0x${(-signed).toString(16)}` : `0x${signed.toString(16)}`;
}

const text = (word: Word): string => (typeof word === "number" ? literal(word) : word);

/** x ^ y or x & y, computed here when both are constants. */
function bitwise(x: Word, operator: "^" | "&", y: Word): Word {
  if (typeof x === "number" && typeof y === "number") return operator === "^" ? x ^ y : x & y;
  return `(${text(x)} ${operator} ${text(y)})`;
}
const xor = (x: Word, y: Word) => bitwise(x, "^", y);
const and = (x: Word, y: Word) => bitwise(x, "&", y);

/** x + y + … mod 2^32, the constants summed here. */
function sum(...words: Word[]): Word {
  let constant = 0;
  const names: string[] = [];
  for (const word of words) {
    if (typeof word === "number") constant = (constant + word) | 0;
    else names.push(word);
  }
  if (names.length === 0) return constant;
  if (constant !== 0) names.push(literal(constant));
  return names.length === 1 ? (names[0] as string) : `(${names.join(" + ")}) | 0`;
}

/**
 * FIPS 180-4 §4.1.2 (4.4)-(4.7): Σ0, Σ1 (three rotations), σ0, σ1 (two rotations and a
 * shift). `ROTR^n x` is `(x >>> n) | (x << 32 - n)`, which V8 compiles to one rotate.
 */
function sigma(x: Word, [r1, r2, last]: readonly [number, number, number], shift: boolean): Word {
  if (typeof x === "number") {
    const rotr = (n: number) => (x >>> n) | (x << (32 - n));
    return rotr(r1) ^ rotr(r2) ^ (shift ? x >>> last : rotr(last));
  }
  const rotr = (n: number) => `((${x} >>> ${n}) | (${x} << ${32 - n}))`;
  return `${rotr(r1)} ^ ${rotr(r2)} ^ ${shift ? `(${x} >>> ${last})` : rotr(last)}`;
}
const bigSigma0 = (x: Word) => sigma(x, [2, 13, 22], false);
const bigSigma1 = (x: Word) => sigma(x, [6, 11, 25], false);
const smallSigma0 = (x: Word) => sigma(x, [7, 18, 3], true);
const smallSigma1 = (x: Word) => sigma(x, [17, 19, 10], true);

/** `(…)` without its outer parentheses, which the formatter would drop. */
function unwrap(expression: string): string {
  let depth = 0;
  for (const [i, char] of [...expression].entries()) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (depth === 0) return i === expression.length - 1 ? expression.slice(1, -1) : expression;
  }
  return expression;
}

/** Emits `name = value;` (or folds it away) and returns the word that now holds it. */
type Emit = (name: string, value: Word, declare?: boolean) => Word;

/** FIPS 180-4 §6.2.2 step 1: W0..W7 the message (locals w0..w7), W8..W15 the padding. */
function schedule(emit: Emit): Word[] {
  const w: Word[] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `w${i}`);
  w.push(...PADDING);
  for (let t = 16; t < 64; t++) {
    const s0 = emit("s", smallSigma0(w[t - 15] as Word));
    const s1 = emit("u", smallSigma1(w[t - 2] as Word));
    w.push(emit(`w${t}`, sum(s1, w[t - 7] as Word, s0, w[t - 16] as Word), true));
  }
  return w;
}

/**
 * Steps 2-4: 64 rounds from H(0), then the sum with H(0). Round t's new a and e are the
 * locals a{t} and e{t}; b, c, d are a of the three rounds before and f, g, h e of them, so
 * the working variables never move. Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), where b ^ c is
 * the a ^ b of the round before (x{t-1}); Ch(e, f, g) = g ^ (e & (f ^ g)). Both are the
 * functions of §4.1.2 (4.2), (4.3) with one operation fewer.
 */
function rounds(emit: Emit, w: readonly Word[]): Word[] {
  // Newest last: before round 0 the rounds before are H(0)'s d, c, b, a and h, g, f, e.
  const aHistory: Word[] = [H0[3], H0[2], H0[1], H0[0]];
  const eHistory: Word[] = [H0[7], H0[6], H0[5], H0[4]];
  let previousXor = xor(H0[1], H0[2]);
  for (let t = 0; t < 64; t++) {
    const [a, b, , d] = newestFour(aHistory);
    const [e, f, g, h] = newestFour(eHistory);
    const s1 = emit("s", bigSigma1(e));
    const t1 = emit("t", sum(h, s1, xor(g, and(e, xor(f, g))), K[t] as number, w[t] as Word));
    eHistory.push(emit(`e${t}`, sum(d, t1), true));
    const aXorB = emit(`x${t}`, xor(a, b), true);
    const s0 = emit("s", bigSigma0(a));
    aHistory.push(emit(`a${t}`, sum(t1, s0, xor(b, and(aXorB, previousXor))), true));
    previousXor = aXorB;
  }
  const working = [...newestFour(aHistory), ...newestFour(eHistory)];
  return working.map((word, i) => sum(H0[i] as number, word));
}

/** a, b, c, d (or e, f, g, h): the newest four entries, newest first. */
function newestFour(history: readonly Word[]): [Word, Word, Word, Word] {
  const [d, c, b, a] = history.slice(-4) as [Word, Word, Word, Word];
  return [a, b, c, d];
}

/** The generated module's text. */
export function sha256DigestSource(): string {
  const body: string[] = [];
  const emit: Emit = (name, value, declare = false) => {
    if (typeof value === "number" || !value.includes(" ")) return value;
    body.push(`  ${declare ? "const " : ""}${name} = ${unwrap(value)};`);
    return name;
  };
  const digest = rounds(emit, schedule(emit));
  const words = [0, 1, 2, 3, 4, 5, 6, 7];
  return [
    "// Generated by scripts/sha256-digest-source.ts (`npm run generate:sha256`): do not edit.",
    "",
    "/**",
    " * One SHA-256 of a 32-byte message held as eight big-endian 32-bit words, in place:",
    " * `words` ← SHA-256(`words`) (FIPS 180-4 §6.2.2, one block: the padding of §5.1.1 is",
    " * fixed, so its schedule terms and the first rounds' constant parts are folded in).",
    " * w{t}: schedule word t; a{t}, e{t}: the working variables a and e after round t;",
    " * x{t}: a ^ b of round t; s and u hold a σ or Σ for the next statement, t a round's T1.",
    " */",
    "export function sha256Digest(words: Int32Array): void {",
    ...words.map((i) => `  const w${i} = words[${i}] as number;`),
    "  let s: number;",
    "  let u: number;",
    "  let t: number;",
    ...body,
    ...words.map((i) => `  words[${i}] = ${digest[i]};`),
    "}",
    "",
  ].join("\n");
}
