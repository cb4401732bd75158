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
    file.messageType.forEach((m, i) => addMessage(m, `${prefix}${m.name}`, [4, i], add));
    file.enumType.forEach((e, i) => addEnum(e, `${prefix}${e.name}`, [5, i], add));
    addServices(file, prefix, add);
  }
  return comments;
}

type Add = (name: string, path: number[]) => void;

function addMessage(message: DescriptorProto, name: string, path: number[], add: Add): void {
  add(name, path);
  message.field.forEach((f, i) => add(`${name}.${f.name}`, [...path, 2, i]));
  message.nestedType.forEach((m, i) => addMessage(m, `${name}.${m.name}`, [...path, 3, i], add));
  message.enumType.forEach((e, i) => addEnum(e, `${name}.${e.name}`, [...path, 4, i], add));
}

function addEnum(enumType: EnumDescriptorProto, name: string, path: number[], add: Add): void {
  add(name, path);
  enumType.value.forEach((v, i) => add(`${name}.${v.name}`, [...path, 2, i]));
}

function addServices(file: FileDescriptorProto, prefix: string, add: Add): void {
  file.service.forEach((service, s) => {
    add(`${prefix}${service.name}`, [6, s]);
    service.method.forEach((m, i) => add(`${prefix}${service.name}.${m.name}`, [6, s, 2, i]));
  });
}
