export {
  DEFAULT_ADMIN_PORT,
  startAdminServer,
  type AdminServer,
  type AdminServerOptions,
} from './admin-server.js';
