import {
  type DescEnum,
  type DescField,
  type DescMessage,
  type DescService,
  ScalarType,
} from "@bufbuild/protobuf";
import { ReasonSchema } from "../../../gen/gatehouse/v1/errors_pb.js";
import { type RestRoute, restRoutes } from "../rest/routes.js";
import type { ProtoComments } from "./proto-comments.js";

type Json = { [key: string]: unknown };

/**
 * The OpenAPI 3.1 document of the REST surface: every binding `restRoutes` serves (the same
 * `google.api.http` rules, read from the same descriptors), with the proto's comments as
 * descriptions and the protobuf JSON mapping as schemas. Deterministic: the same proto gives
 * the same bytes (docs/openapi.json is checked against it).
 */
export function openApiDocument(services: readonly DescService[], comments: ProtoComments): Json {
  const schemas = new SchemaSet(comments);
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of restRoutes(services)) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    const operations = paths[path];
    operations[route.httpMethod.toLowerCase()] = operation(route, schemas, comments);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Gatehouse REST API",
      version: "v1",
      description:
        "The gRPC services of Gatehouse as REST, served by the HTTP sidecar (`gatehouse sidecar`) " +
        "from the proto's google.api.http rules. JSON per the protobuf JSON mapping; a refusal is " +
        "an Error with the typed reason. Every call needs a client certificate of Gatehouse's CA.",
    },
    tags: services.map((service) => ({
      name: service.name,
      description: comments.get(service.typeName) ?? service.name,
    })),
    security: [{ mutualTLS: [] }],
    paths,
    components: {
      securitySchemes: {
        mutualTLS: {
          type: "mutualTLS",
          description:
            "A client certificate issued by Gatehouse's CA names the caller and its role.",
        },
      },
      responses: {
        Error: {
          description: "Refused: the status and reason come from Gatehouse's one error catalog.",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      },
      schemas: { ...schemas.all(), Error: errorSchema(comments) },
    },
  };
}

/** `{name=operators/*}` → `{name}`: OpenAPI path parameters are names only. */
function openApiPath(template: string): string {
  return template.replace(/\{([^=}]+)(=[^}]*)?\}/g, "{$1}");
}

function operation(route: RestRoute, schemas: SchemaSet, comments: ProtoComments): Json {
  const { method } = route;
  const name = `${method.parent.typeName}.${method.name}`;
  const description = comments.get(name);
  const variables = [...route.path.matchAll(/\{([^=}]+)(?:=([^}]*))?\}/g)];
  const pathParams = variables.map(([, field = "", pattern]) => ({
    name: field,
    in: "path",
    required: true,
    schema: { type: "string" },
    ...(pattern === undefined ? {} : { description: `Matches \`${pattern}\`.` }),
  }));
  const bound = new Set(variables.map(([, field = ""]) => field));
  const queryParams =
    route.body === "*" ? [] : queryParameters(method.input, route.body, bound, comments);
  const body = requestBody(route, schemas);
  const output =
    route.responseBody === "" ? undefined : fieldNamed(method.output, route.responseBody);
  return {
    operationId: `${method.parent.name}_${method.name}`,
    tags: [method.parent.name],
    summary: (description ?? method.name).split("\n")[0],
    ...(description === undefined ? {} : { description }),
    ...(pathParams.length + queryParams.length === 0
      ? {}
      : { parameters: [...pathParams, ...queryParams] }),
    ...(body === undefined ? {} : { requestBody: body }),
    responses: {
      "200": {
        description: `${method.output.name}`,
        content: {
          "application/json": {
            schema: output === undefined ? schemas.ref(method.output) : schemas.field(output),
          },
        },
      },
      default: { $ref: "#/components/responses/Error" },
    },
  };
}

function requestBody(route: RestRoute, schemas: SchemaSet): Json | undefined {
  if (route.body === "") return undefined;
  const field = route.body === "*" ? undefined : fieldNamed(route.method.input, route.body);
  const schema = field === undefined ? schemas.ref(route.method.input) : schemas.field(field);
  return { required: true, content: { "application/json": { schema } } };
}

/** Top-level fields a query string can set (rest/transcode.ts): scalars, enums, their lists. */
function queryParameters(
  input: DescMessage,
  body: string,
  bound: ReadonlySet<string>,
  comments: ProtoComments,
): Json[] {
  return input.fields
    .filter((field) => field.name !== body && !bound.has(field.name))
    .filter((field) => field.message === undefined)
    .map((field) => ({
      name: field.jsonName,
      in: "query",
      ...(comments.has(fieldKey(field)) ? { description: comments.get(fieldKey(field)) } : {}),
      schema: scalarOrEnumSchema(field),
      ...(field.fieldKind === "list" ? { explode: true } : {}),
    }));
}

function scalarOrEnumSchema(field: DescField): Json {
  const item = field.enum === undefined ? scalarSchema(field.scalar) : enumSchema(field.enum);
  return field.fieldKind === "list" ? { type: "array", items: item } : item;
}

function fieldNamed(message: DescMessage, name: string): DescField | undefined {
  return message.fields.find((field) => field.name === name);
}

function fieldKey(field: DescField): string {
  return `${field.parent.typeName}.${field.name}`;
}

/** JSON Schemas of messages, by full name, added as they are referenced. */
class SchemaSet {
  private readonly schemas = new Map<string, Json>();
  constructor(private readonly comments: ProtoComments) {}

  all(): Record<string, Json> {
    return Object.fromEntries([...this.schemas].sort(([a], [b]) => a.localeCompare(b)));
  }

  ref(message: DescMessage): Json {
    const wellKnown = WELL_KNOWN[message.typeName];
    if (wellKnown !== undefined) return wellKnown;
    if (!this.schemas.has(message.typeName)) {
      this.schemas.set(message.typeName, {}); // placeholder: messages may refer to themselves
      this.schemas.set(message.typeName, this.message(message));
    }
    return { $ref: `#/components/schemas/${message.typeName}` };
  }

  field(field: DescField): Json {
    const value = (): Json => {
      if (field.message !== undefined) return this.ref(field.message);
      if (field.enum !== undefined) return enumSchema(field.enum);
      return scalarSchema(field.scalar);
    };
    switch (field.fieldKind) {
      case "list":
        return { type: "array", items: value() };
      case "map":
        return { type: "object", additionalProperties: value() };
      default:
        return value();
    }
  }

  private message(message: DescMessage): Json {
    const properties: Record<string, Json> = {};
    for (const field of message.fields) {
      const description = this.comments.get(fieldKey(field));
      const schema = this.field(field);
      properties[field.jsonName] =
        description === undefined
          ? schema
          : "$ref" in schema
            ? { allOf: [schema], description }
            : { ...schema, description };
    }
    const description = this.comments.get(message.typeName);
    return {
      type: "object",
      ...(description === undefined ? {} : { description }),
      properties,
      additionalProperties: false,
    };
  }
}

/** The protobuf JSON mapping of each scalar (64-bit integers are strings). */
function scalarSchema(scalar: ScalarType | undefined): Json {
  switch (scalar) {
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "int64", minimum: 0 };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64" };
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return { type: "number" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    default:
      return { type: "string" };
  }
}

function enumSchema(enumType: DescEnum): Json {
  return { type: "string", enum: enumType.values.map((value) => value.name) };
}

/** The JSON mapping of the well-known types the contract uses. */
const WELL_KNOWN: Readonly<Record<string, Json>> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?\\d+(\\.\\d+)?s$" },
  "google.protobuf.Empty": { type: "object", additionalProperties: false },
  "google.protobuf.Struct": { type: "object" },
  "google.protobuf.Value": {},
};

/** The sidecar's refusal body (http-io.ts sendError). */
function errorSchema(comments: ProtoComments): Json {
  return {
    type: "object",
    required: ["code", "reason", "message"],
    properties: {
      code: { type: "string", description: "The Connect code name, e.g. `permission_denied`." },
      reason: {
        ...enumSchema(ReasonSchema),
        description: comments.get(ReasonSchema.typeName) ?? "Why it was refused.",
      },
      message: { type: "string", description: "The public message of the reason." },
      field: { type: "string", description: "The request field at fault, for bad input." },
    },
  };
}
