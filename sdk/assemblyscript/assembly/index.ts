// The AssemblyScript SDK for media server plugins (ABI v1): typed events,
// the 18 actions, responses, logging and the key-value store. The reactor
// and command entry points are in ./reactor and ./command.

export * from "./json";
export * from "./event";
export * from "./response";
export * from "./actions";
export * from "./host";
export * from "./handler";

import { AudioSource } from "./actions";

/** The AudioSource of key in bucket of the tenant's bucket store. */
export function s3Audio(bucket: string, key: string): AudioSource {
  const a = new AudioSource();
  a.type = "S3";
  a.bucketName = bucket;
  a.key = key;
  return a;
}
