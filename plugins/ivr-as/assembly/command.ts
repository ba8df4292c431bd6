// The WASI command (compatibility mode): build with --exportStart _start.
import { handle } from "./handler";
import { runCommand } from "@wasmvoice/mediaserver-as/assembly/command";

runCommand(handle);
