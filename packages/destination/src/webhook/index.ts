export {
  createServiceProfileValidator,
  SP_VALIDATOR_PATH,
  validateServiceProfileRequest,
  type ServiceProfileValidatorOptions,
} from './service-profile-validator.js';
