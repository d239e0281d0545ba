export { startAdminServer, type AdminServer, type AdminServerOptions } from './admin-server.js';
