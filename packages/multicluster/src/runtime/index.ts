// The tsmesh-service-mirror binary.
export {
  runServiceMirror,
  serveServiceMirror,
  type ServeServiceMirrorOptions,
} from './run-service-mirror.js';
export {
  parseServiceMirrorConfig,
  PROGRAM,
  SERVICE_MIRROR_HELP,
  type ServiceMirrorConfig,
} from './service-mirror-config.js';
