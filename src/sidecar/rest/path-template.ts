/**
 * `google.api.http` path templates (google/api/http.proto, "Path template syntax"):
 *
 *   Template = "/" Segments [ Verb ] ;  Segments = Segment { "/" Segment } ;
 *   Segment  = "*" | "**" | LITERAL | Variable ;  Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *   Verb     = ":" LITERAL ;
 *
 * compiled once to a regular expression whose groups are the variables, in order.
 */
export interface PathTemplate {
  readonly pattern: RegExp;
  /** Field paths (`parent.name`) of the variables, in group order. */
  readonly variables: readonly string[];
  /** Whether each variable may span segments (then `/` stays literal in its value). */
  readonly multiSegment: readonly boolean[];
}

const LITERAL = /^[A-Za-z0-9._~!$&'()+,;=@-]+$/;
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Throws on a template outside the grammar: the router refuses to start with it. */
export function compileTemplate(template: string): PathTemplate {
  if (!template.startsWith("/")) throw new Error(`path template must start with "/": ${template}`);
  const verbAt = verbStart(template);
  const path = template.slice(1, verbAt);
  const verb = template.slice(verbAt);
  if (verb !== "" && !LITERAL.test(verb.slice(1))) throw new Error(`bad verb in ${template}`);
  const variables: string[] = [];
  const multiSegment: boolean[] = [];
  const parts = splitSegments(path).map((segment) => {
    const variable = /^\{([^=}]+)(?:=(.+))?\}$/.exec(segment);
    if (variable === null) return segmentPattern(segment, template);
    const [, field = "", inner = "*"] = variable;
    if (!FIELD_PATH.test(field)) throw new Error(`bad variable ${field} in ${template}`);
    const innerSegments = inner.split("/");
    variables.push(field);
    multiSegment.push(innerSegments.length > 1 || innerSegments.includes("**"));
    return `(${innerSegments.map((s) => segmentPattern(s, template)).join("/")})`;
  });
  const pattern = new RegExp(`^/${parts.join("/")}${escapeRegExp(verb)}$`);
  return { pattern, variables, multiSegment };
}

/** The values of a template's variables in `path`, percent-decoded; undefined if no match. */
export function matchTemplate(
  template: PathTemplate,
  path: string,
): Map<string, string> | undefined {
  const match = template.pattern.exec(path);
  if (match === null) return undefined;
  const values = new Map<string, string>();
  for (const [i, field] of template.variables.entries()) {
    const raw = match[i + 1] ?? "";
    // A multi-segment value keeps its `/` separators; each segment is decoded alone.
    const segments = (template.multiSegment[i] ? raw.split("/") : [raw]).map(decodeSegment);
    if (segments.some((segment) => segment === undefined)) return undefined;
    const value = segments.join("/");
    if (value.includes("\u0000")) return undefined;
    values.set(field, value);
  }
  return values;
}

/** Undefined for a malformed escape (`%zz`): the path then matches nothing. */
function decodeSegment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** The verb starts at the last `:` outside braces and after the last `/`. */
function verbStart(template: string): number {
  let depth = 0;
  let at = template.length;
  for (let i = 0; i < template.length; i++) {
    const char = template[i];
    if (char === "{") depth++;
    else if (char === "}") depth--;
    else if (char === "/" && depth === 0) at = template.length;
    else if (char === ":" && depth === 0) at = i;
  }
  return at;
}

/** Splits on `/` outside braces (a variable's own segments stay together). */
function splitSegments(path: string): string[] {
  const segments: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of path) {
    if (char === "{") depth++;
    if (char === "}") depth--;
    if (char === "/" && depth === 0) {
      segments.push(current);
      current = "";
    } else current += char;
  }
  segments.push(current);
  return segments;
}

function segmentPattern(segment: string, template: string): string {
  if (segment === "*") return "[^/]+";
  if (segment === "**") return ".+";
  if (!LITERAL.test(segment)) throw new Error(`bad segment "${segment}" in ${template}`);
  return escapeRegExp(segment);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
