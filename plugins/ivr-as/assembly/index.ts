// The ABI v1 reactor: build with --exportStart _initialize (see build.sh).
import { handle } from "./handler";
import { setHandler } from "@wasmvoice/mediaserver-as/assembly/reactor";

setHandler(handle);

export { mediaserver_abi_v1, handle_event } from "@wasmvoice/mediaserver-as/assembly/reactor";
