// Every policy parsing failure is a MeshError with code `invalid_argument` whose `where` names the
// resource and the field (for example `Server emojivoto/web-http: spec.port`).
import { MeshError, MeshErrorCode } from '../errors/index.js';

export function invalidPolicy(where: string, message: string, hint?: string): MeshError {
  return new MeshError(
    MeshErrorCode.InvalidArgument,
    message,
    hint === undefined ? { where } : { where, hint },
  );
}
