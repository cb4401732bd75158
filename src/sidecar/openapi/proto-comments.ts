import type {
  DescriptorProto,
  EnumDescriptorProto,
  FileDescriptorProto,
  FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";

/** Leading comments by fully-qualified name (`gatehouse.v1.TokenRequest.dpop_proof`). */
export type ProtoComments = ReadonlyMap<string, string>;

/**
 * The leading comment of every service, method, message, field, enum and enum value of a
 * descriptor set built with source info (`buf build`): what the proto says about each, by
 * the paths of descriptor.proto's SourceCodeInfo (FileDescriptorProto field 4 messages,
 * 5 enums, 6 services; DescriptorProto 2 fields, 3 nested messages, 4 nested enums;
 * EnumDescriptorProto 2 values; ServiceDescriptorProto 2 methods).
 */
export function protoComments(set: FileDescriptorSet): ProtoComments {
  const comments = new Map<string, string>();
  for (const file of set.file) {
    const byPath = new Map<string, string>();
    for (const location of file.sourceCodeInfo?.location ?? []) {
      const text = (location.leadingComments ?? "").trim();
      if (text !== "") byPath.set(location.path.join("."), text.replace(/\n /g, "\n"));
    }
    const add = (name: string, path: number[]) => {
      const text = byPath.get(path.join("."));
      if (text !== undefined) comments.set(name, text);
    };
    const prefix = file.package === "" ? "" : `${file.package}.`;
    for (const [i, m] of file.messageType.entries())
      addMessage(m, `${prefix}${m.name}`, [4, i], add);
    for (const [i, e] of file.enumType.entries()) addEnum(e, `${prefix}${e.name}`, [5, i], add);
    addServices(file, prefix, add);
  }
  return comments;
}

type Add = (name: string, path: number[]) => void;

function addMessage(message: DescriptorProto, name: string, path: number[], add: Add): void {
  add(name, path);
  for (const [i, f] of message.field.entries()) add(`${name}.${f.name}`, [...path, 2, i]);
  for (const [i, m] of message.nestedType.entries()) {
    addMessage(m, `${name}.${m.name}`, [...path, 3, i], add);
  }
  for (const [i, e] of message.enumType.entries())
    addEnum(e, `${name}.${e.name}`, [...path, 4, i], add);
}

function addEnum(enumType: EnumDescriptorProto, name: string, path: number[], add: Add): void {
  add(name, path);
  for (const [i, v] of enumType.value.entries()) add(`${name}.${v.name}`, [...path, 2, i]);
}

function addServices(file: FileDescriptorProto, prefix: string, add: Add): void {
  for (const [s, service] of file.service.entries()) {
    add(`${prefix}${service.name}`, [6, s]);
    for (const [i, m] of service.method.entries()) {
      add(`${prefix}${service.name}.${m.name}`, [6, s, 2, i]);
    }
  }
}
