/**
 * The only module that loads `@peculiar/x509`: the stub it needs must be
 * evaluated first (see ./reflect-metadata-stub.ts), and one entry point keeps
 * that ordering in one place.
 */
import "./reflect-metadata-stub.js";

export {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type JsonGeneralName,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
} from "@peculiar/x509";
