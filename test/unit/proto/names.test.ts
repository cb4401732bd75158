import { create, type DescFile, type DescMessage, fromJson, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { file_gatehouse_v1_audit } from "../../../gen/gatehouse/v1/audit_pb.js";
import { file_gatehouse_v1_errors } from "../../../gen/gatehouse/v1/errors_pb.js";
import {
  file_gatehouse_v1_gate,
  SubmitResponseSchema,
  TokenRequestSchema,
} from "../../../gen/gatehouse/v1/gate_pb.js";
import { file_gatehouse_v1_grants } from "../../../gen/gatehouse/v1/grants_pb.js";
import { file_gatehouse_v1_registry } from "../../../gen/gatehouse/v1/registry_pb.js";
import { file_gatehouse_v1_resources } from "../../../gen/gatehouse/v1/resources_pb.js";
import { file_gatehouse_v1_validate } from "../../../gen/gatehouse/v1/validate_pb.js";
import { file_gatehouse_v1_verify } from "../../../gen/gatehouse/v1/verify_pb.js";

const FILES: readonly DescFile[] = [
  file_gatehouse_v1_audit,
  file_gatehouse_v1_errors,
  file_gatehouse_v1_gate,
  file_gatehouse_v1_grants,
  file_gatehouse_v1_registry,
  file_gatehouse_v1_resources,
  file_gatehouse_v1_validate,
  file_gatehouse_v1_verify,
];

const words = (list: string) => new Set(list.split(/\s+/).filter(Boolean));

/** Reserved words, hard and soft, of each language a client is generated for. */
const KEYWORDS = {
  // https://docs.python.org/3/reference/lexical_analysis.html#keywords (soft keywords last)
  python: words(`False None True and as assert async await break class continue def del elif
    else except finally for from global if import in is lambda nonlocal not or pass raise
    return try while with yield match case type _`),
  // https://go.dev/ref/spec#Keywords
  go: words(`break case chan const continue default defer else fallthrough for func go goto if
    import interface map package range return select struct switch type var`),
  // ECMAScript reserved words, strict-mode and TypeScript's contextual keywords
  typescript: words(`break case catch class const continue debugger default delete do else enum
    export extends false finally for function if import in instanceof new null return super
    switch this throw true try typeof var void while with implements interface let package
    private protected public static yield await async any as boolean constructor declare get
    module require number set string symbol type from of never unknown object keyof readonly`),
  // https://docs.oracle.com/javase/specs/jls/se21/html/jls-3.html#jls-3.9 (with contextual)
  java: words(`abstract assert boolean break byte case catch char class const continue default
    do double else enum extends final finally float for goto if implements import instanceof
    int interface long native new package private protected public return short static
    strictfp super switch synchronized this throw throws transient try void volatile while
    true false null var record yield sealed permits`),
  // https://learn.microsoft.com/dotnet/csharp/language-reference/keywords/ (reserved ones)
  csharp: words(`abstract as base bool break byte case catch char checked class const continue
    decimal default delegate do double else enum event explicit extern false finally fixed
    float for foreach goto if implicit in int interface internal is lock long namespace new
    null object operator out override params private protected public readonly ref return
    sbyte sealed short sizeof stackalloc static string struct switch this throw true try
    typeof uint ulong unchecked unsafe ushort using virtual void volatile while`),
} as const;

type Language = keyof typeof KEYWORDS;

/**
 * Names that are a keyword somewhere, yet never reach that language's generated code as
 * that word: Go (protoc-gen-go) and C# (protoc-gen-csharp) export fields in UpperCamelCase
 * (`Type`, `Event`, `Base`, `Operator`), Java wraps them in accessors (`getType()`), and a
 * Python soft keyword or a TypeScript contextual keyword is a valid attribute / property
 * name. Anything new that hits a keyword must be renamed, or argued for here.
 */
const HARMLESS: Readonly<Record<string, readonly Language[]>> = {
  type: ["python", "go", "typescript"],
  event: ["csharp"],
  base: ["csharp"],
  operator: ["csharp"],
};

function* messagesOf(messages: readonly DescMessage[]): Generator<DescMessage> {
  for (const message of messages) {
    yield message;
    yield* messagesOf(message.nestedMessages);
  }
}

/** Every field, oneof and package-segment name of the contract, with where it is. */
function contractNames(): { name: string; where: string }[] {
  const names: { name: string; where: string }[] = [];
  for (const file of FILES) {
    for (const segment of file.proto.package.split(".")) {
      names.push({ name: segment, where: `package ${file.proto.package}` });
    }
    for (const message of messagesOf(file.messages)) {
      for (const field of message.fields) {
        names.push({ name: field.name, where: `${message.typeName}.${field.name}` });
      }
      for (const oneof of message.oneofs) {
        names.push({ name: oneof.name, where: `${message.typeName} oneof ${oneof.name}` });
      }
    }
    for (const extension of file.extensions) {
      names.push({ name: extension.name, where: `extension ${extension.typeName}` });
    }
  }
  return names;
}

describe("the contract's names suit every generator (issue 14)", () => {
  it("uses no keyword of Python, Go, TypeScript, Java or C# as a field, oneof or package name", () => {
    const names = contractNames();
    expect(names.length).toBeGreaterThan(200);
    const clashes = names.flatMap(({ name, where }) =>
      (Object.keys(KEYWORDS) as Language[])
        .filter((language) => KEYWORDS[language].has(name))
        .filter((language) => !HARMLESS[name]?.includes(language))
        .map((language) => `${where} is a ${language} keyword`),
    );
    expect(clashes).toEqual([]);
  });

  it("renamed `pass` to `pass_token` on the same field number, JSON name still `pass`", () => {
    for (const schema of [SubmitResponseSchema, TokenRequestSchema]) {
      const field = schema.fields.find((candidate) => candidate.number === 1);
      expect(field?.name).toBe("pass_token");
      expect(field?.jsonName).toBe("pass");
    }
    const pass = "A".repeat(43);
    const response = create(SubmitResponseSchema, { passToken: pass });
    expect(toJson(SubmitResponseSchema, response)).toEqual({ pass });
    // Connect JSON and the sidecar's REST bodies keep sending `pass`.
    const request = fromJson(TokenRequestSchema, { pass });
    expect(request.grant).toEqual({ case: "passToken", value: pass });
  });
});
