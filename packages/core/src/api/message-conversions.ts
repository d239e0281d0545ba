// The generated messages' verify, fromObject, toObject and toJSON (protobufjs' conversions between
// message instances and plain or JSON objects). They live apart from the classes (generated
// proto-convert.js) because a proxy never uses them and they cost it ~4 MB of RSS: `@tsmesh/core`
// installs them when it is imported, its data-plane entry does not.
import { installConversions } from './generated/proto-convert.js';

let installed = false;

/** Adds the conversions to every generated message class (once; later calls do nothing). */
export function installMessageConversions(): void {
  if (installed) return;
  installed = true;
  installConversions();
}
