import { type DescMethod, type DescService, getOption, hasOption } from "@bufbuild/protobuf";
import { http } from "../../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../../gen/google/api/http_pb.js";
import { compileTemplate, type PathTemplate } from "./path-template.js";

/** One HTTP binding of one RPC: a method and path template, and where the message comes from. */
export interface RestRoute {
  readonly method: DescMethod;
  readonly httpMethod: string;
  /** The path template as the rule wrote it. */
  readonly path: string;
  readonly template: PathTemplate;
  /** `*`: the whole body is the message; a field name: the body is that field; "": no body. */
  readonly body: string;
  /** A field of the response to send instead of the whole message; "" for the whole. */
  readonly responseBody: string;
}

/**
 * Every binding of every RPC of `services`, read from their `google.api.http` options
 * (additional_bindings included), built once at start-up. A bad template stops start-up.
 */
export function restRoutes(services: readonly DescService[]): RestRoute[] {
  return services.flatMap((service) =>
    service.methods.flatMap((method) => {
      if (!hasOption(method, http)) return [];
      const rule = getOption(method, http);
      return [rule, ...rule.additionalBindings].map((binding) => route(method, binding));
    }),
  );
}

function route(method: DescMethod, rule: HttpRule): RestRoute {
  const { pattern } = rule;
  if (pattern.case === undefined) throw new Error(`${method.name}: http rule without a path`);
  const [httpMethod, path] =
    pattern.case === "custom"
      ? [pattern.value.kind.toUpperCase(), pattern.value.path]
      : [pattern.case.toUpperCase(), pattern.value];
  return {
    method,
    httpMethod,
    path,
    template: compileTemplate(path),
    body: rule.body,
    responseBody: rule.responseBody,
  };
}
