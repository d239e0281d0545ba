export {
  createInjectorHandler,
  type InjectorEvent,
  type InjectorHandlerOptions,
} from './injector-webhook.js';
export {
  INJECTOR_ADMIN_PORT,
  INJECTOR_WEBHOOK_PORT,
  startInjectorService,
  type InjectorService,
  type InjectorServiceOptions,
} from './injector-service.js';
export {
  INJECTOR_WEBHOOK_CONFIGURATION_NAME,
  injectorWebhookConfiguration,
  type InjectorWebhookConfigurationOptions,
} from './webhook-configuration.js';
