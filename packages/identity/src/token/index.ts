export {
  readJwtExpiryMs,
  serviceAccountOfUsername,
  type TokenSubject,
  type TokenValidator,
  type ValidateOptions,
} from './token-validator.js';
export {
  createTokenReviewValidator,
  type TokenReviewApi,
  type TokenReviewValidatorOptions,
} from './token-review-validator.js';
export {
  createLocalTokenIssuer,
  createLocalTokenValidator,
  LOCAL_TOKEN_ISSUER,
  type LocalTokenIssuer,
  type LocalTokenIssuerOptions,
  type LocalTokenValidatorOptions,
  type MintOptions,
} from './local-token.js';
export {
  createCachedTokenValidator,
  type CachedTokenValidator,
  type CachedTokenValidatorOptions,
} from './cached-token-validator.js';
